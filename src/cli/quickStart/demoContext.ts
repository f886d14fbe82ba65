import type { LanguageModel } from '../../engine/LanguageModel.js';
import type { PersonaVector } from '../../steering/PersonaVector.js';

/**
 * What every quick-start demo gets: the loaded embedded model, the persona to show, and where to write.
 *
 * @example const ctx: DemoContext = { model, persona: formal, prompt: 'Thank Reese for the gift.', out: process.stdout };
 */
export interface DemoContext {
  model: LanguageModel;
  persona: PersonaVector;
  prompt: string;
  out: NodeJS.WritableStream & { columns?: number };
}

/**
 * Five alphas across a persona's recommended range (its ends, their halves, and 0), rounded to 0.5.
 *
 * @example demoAlphas(formal); // [-4, -2, 0, 2, 4] for a range of -4..4
 */
export function demoAlphas(persona: PersonaVector): number[] {
  const [lo, hi] = persona.meta.alphaRange;
  const r = (x: number) => Math.round(x * 2) / 2;
  return [...new Set([r(lo), r(lo / 2), 0, r(hi / 2), r(hi)])].sort((a, b) => a - b);
}

/** Words of `text` in lines of at most `width` characters. */
export function wrapText(text: string, width: number): string[] {
  const words = text.replace(/\s+/g, ' ').trim().split(' ');
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if ((cur + ' ' + w).trim().length > width) {
      if (cur) lines.push(cur);
      cur = w;
    } else cur = (cur + ' ' + w).trim();
  }
  if (cur) lines.push(cur);
  return lines.length ? lines : [''];
}

/** Writes labelled answers as a two-column block: `label │ wrapped text`. */
export function writeRows(out: DemoContext['out'], rows: { label: string; text: string }[]): void {
  const pad = Math.max(...rows.map((r) => r.label.length));
  const width = Math.max(40, Math.min(100, (out.columns ?? 100) - pad - 4));
  for (const r of rows) {
    wrapText(r.text, width).forEach((line, j) => out.write(`${j === 0 ? r.label.padEnd(pad) : ' '.repeat(pad)} │ ${line}\n`));
    out.write(`${' '.repeat(pad)} │\n`);
  }
}
