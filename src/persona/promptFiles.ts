import { promises as fs } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';

export interface ContrastPrompt {
  system?: string;
  user: string;
}

/**
 * Reads prompts: one per line (blank lines and `#` comments skipped, `\n` escapes decoded), or JSONL
 * with `system` / `user` fields (detected by a `.jsonl` name or a first line starting with `{`).
 *
 * @example const pos = await readPromptFile('formal-pos.jsonl');
 */
export async function readPromptFile(file: string): Promise<ContrastPrompt[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new InvalidArgumentError(`Prompt file ${file} cannot be read (missing?).`);
  }
  const lines = text.split(/\r?\n/);
  const first = lines.find((l) => l.trim() !== '');
  const jsonl = file.endsWith('.jsonl') || (first ?? '').trim().startsWith('{');
  const out: ContrastPrompt[] = [];
  lines.forEach((line, i) => {
    const t = line.trim();
    if (!t || (!jsonl && t.startsWith('#'))) return;
    if (jsonl) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(t);
      } catch (err) {
        throw new InvalidArgumentError(`${file}, line ${i + 1}: not valid JSON (${(err as Error).message}).`);
      }
      const user = o.user ?? o.prompt ?? o.question;
      if (typeof user !== 'string' || !user) throw new InvalidArgumentError(`${file}, line ${i + 1}: needs a "user" string field.`);
      out.push({ user, system: typeof o.system === 'string' && o.system ? o.system : undefined });
    } else {
      out.push({ user: t.replace(/\\n/g, '\n') });
    }
  });
  if (out.length === 0) throw new InvalidArgumentError(`Prompt file ${file} has no prompts.`);
  return out;
}

/** Reads a positive and a negative prompt file; row-aligned pairs must be equal in number. */
export async function readContrastiveFiles(pos: string, neg: string): Promise<{ positive: ContrastPrompt[]; negative: ContrastPrompt[] }> {
  const positive = await readPromptFile(pos);
  const negative = await readPromptFile(neg);
  if (positive.length !== negative.length) {
    throw new InvalidArgumentError(`The prompt files differ in length: ${pos} has ${positive.length} prompts, ${neg} has ${negative.length}. Pairs are row-aligned; give both the same number.`);
  }
  return { positive, negative };
}
