import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, PersonaError } from '../../errors.js';
import { PROMPT_SET_FILES, type ContrastPrompt, type ContrastiveSet } from './PromptSet.js';

/**
 * Decodes the escapes of a one-prompt-per-line file: `\n` → newline, `\t` → tab, `\\` → `\`, and
 * `\#` → `#` (a prompt that starts with `#`). Other backslashes are kept as they are.
 *
 * @example decodePromptLine('Line one\\nline two') // → 'Line one\nline two'
 */
export function decodePromptLine(line: string): string {
  return line.replace(/\\([\\nt#])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/**
 * Encodes a prompt as one line of a text prompt file; the inverse of `decodePromptLine`.
 *
 * @example encodePromptLine('a\nb') // → 'a\\nb'
 */
export function encodePromptLine(text: string): string {
  const line = text.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/\t/g, '\\t');
  return line.startsWith('#') ? `\\${line}` : line;
}

/**
 * Options of `parsePromptText`.
 *
 * @example parsePromptText(text, { source: 'pos.txt', jsonl: false });
 */
export interface ParsePromptOptions {
  /** Shown in error messages, usually the file name. */
  source?: string;
  /** Force JSONL (true) or plain lines (false); by default detected from the first prompt line. */
  jsonl?: boolean;
  /** Return [] instead of throwing when there are no prompts. */
  allowEmpty?: boolean;
}

function isComment(trimmed: string): boolean {
  return trimmed === '' || trimmed.startsWith('#');
}

/**
 * Parses the text of a prompt file (see `readPromptFile` for the two formats).
 *
 * @example parsePromptText('# requests\nDescribe a harbour.\n') // → [{ user: 'Describe a harbour.' }]
 */
export function parsePromptText(text: string, options: ParsePromptOptions = {}): ContrastPrompt[] {
  const source = options.source ?? 'prompt text';
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const first = lines.find((l) => !isComment(l.trim()));
  const jsonl = options.jsonl ?? (first ?? '').trim().startsWith('{');
  const out: ContrastPrompt[] = [];
  lines.forEach((line, i) => {
    const t = line.trim();
    if (isComment(t)) return;
    if (!jsonl) {
      out.push({ user: decodePromptLine(t) });
      return;
    }
    const where = `${source}, line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch (err) {
      throw new InvalidArgumentError(
        `${where}: not valid JSON (${(err as Error).message}). Each line of a JSONL prompt file is one object like {"system": "...", "user": "..."}.`,
      );
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(
        `${where}: expected a JSON object like {"system": "...", "user": "..."}, got ${Array.isArray(value) ? 'an array' : typeof value}.`,
      );
    }
    const o = value as Record<string, unknown>;
    const user = o.user ?? o.prompt ?? o.question;
    if (typeof user !== 'string' || user.trim() === '') {
      throw new InvalidArgumentError(`${where}: needs a non-empty "user" string (or "prompt" / "question").`);
    }
    if (o.system !== undefined && o.system !== null && typeof o.system !== 'string') {
      throw new InvalidArgumentError(`${where}: "system" must be a string when given.`);
    }
    const system = typeof o.system === 'string' && o.system.trim() !== '' ? o.system : undefined;
    const assistant = o.assistant ?? o.answer ?? o.response;
    if (assistant !== undefined && assistant !== null && typeof assistant !== 'string') {
      throw new InvalidArgumentError(`${where}: "assistant" (the given answer, or an A/B prefix like "(A") must be a string when given.`);
    }
    const p: ContrastPrompt = system === undefined ? { user } : { system, user };
    if (typeof assistant === 'string') p.assistant = assistant;
    out.push(p);
  });
  if (out.length === 0 && !options.allowEmpty) {
    throw new InvalidArgumentError(
      `${source} has no prompts (only blank lines or # comments). Put one prompt per line, or one {"system", "user"} object per line in JSONL.`,
    );
  }
  return out;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InvalidArgumentError(`${what} ${file} does not exist.`);
    if (code === 'EISDIR') throw new InvalidArgumentError(`${what} ${file} is a folder, not a file.`);
    throw new PersonaError(`${what} ${file} cannot be read: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Reads a prompt file. Two formats:
 * - text: one prompt (a user request) per line; blank lines and lines starting with `#` are skipped;
 *   `\n`, `\t` and `\\` escapes are decoded;
 * - JSONL: one object per line with `user` (or `prompt` / `question`) and an optional `system`.
 * JSONL is chosen by a `.jsonl` name or when the first prompt line starts with `{`. A malformed
 * line is an `InvalidArgumentError` naming the line; a file with no prompts is one too.
 *
 * @example const pos = await readPromptFile('formal-pos.jsonl'); // [{ system: 'You are a formal…', user: '…' }, …]
 */
export async function readPromptFile(file: string): Promise<ContrastPrompt[]> {
  const text = await readText(file, 'Prompt file');
  return parsePromptText(text, { source: `Prompt file ${file}`, jsonl: file.toLowerCase().endsWith('.jsonl') ? true : undefined });
}

/**
 * Options of `readContrastiveFiles` and `readPromptDir`.
 *
 * @example await readContrastiveFiles('pos.txt', 'neg.txt', { allowUnequal: true });
 */
export interface ReadContrastiveOptions {
  /** Accept files of different lengths (pairs are then not row-aligned: fine for mean-diff, not for PCA). */
  allowUnequal?: boolean;
}

/**
 * Reads a positive and a negative prompt file into a `ContrastiveSet`. Pairs are row-aligned, so the
 * two files must hold the same number of prompts unless `allowUnequal` is set.
 *
 * @example const set = await readContrastiveFiles('formal-pos.jsonl', 'formal-neg.jsonl');
 */
export async function readContrastiveFiles(pos: string, neg: string, options: ReadContrastiveOptions = {}): Promise<ContrastiveSet> {
  const positive = await readPromptFile(pos);
  const negative = await readPromptFile(neg);
  if (positive.length !== negative.length && !options.allowUnequal) {
    throw new InvalidArgumentError(
      `The prompt files differ in length: ${pos} has ${positive.length} prompts, ${neg} has ${negative.length}. ` +
        'Pairs are row-aligned (line i of one file pairs with line i of the other); give both the same number of prompts.',
    );
  }
  return { positive, negative };
}

/**
 * Reads a prompt-set folder written by `writePromptFiles` (possibly edited by hand since):
 * `positive.jsonl`, `negative.jsonl`, and, when present, `questions-heldout.txt` and `persona.json`.
 *
 * @example const set = await readPromptDir('prompts/formal'); // then train on set.positive / set.negative
 */
export async function readPromptDir(dir: string, options: ReadContrastiveOptions = {}): Promise<ContrastiveSet> {
  const set = await readContrastiveFiles(path.join(dir, PROMPT_SET_FILES.positive), path.join(dir, PROMPT_SET_FILES.negative), options);
  const heldOutFile = path.join(dir, PROMPT_SET_FILES.heldOut);
  const heldOutText = await fs.readFile(heldOutFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new PersonaError(`${heldOutFile} cannot be read: ${err.message}`, { cause: err });
  });
  if (heldOutText !== undefined) {
    set.questionsHeldOut = parsePromptText(heldOutText, { source: heldOutFile, jsonl: false, allowEmpty: true }).map((p) => p.user);
  }
  const metaFile = path.join(dir, PROMPT_SET_FILES.meta);
  const metaText = await fs.readFile(metaFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new PersonaError(`${metaFile} cannot be read: ${err.message}`, { cause: err });
  });
  if (metaText !== undefined) {
    let meta: Record<string, unknown>;
    try {
      meta = JSON.parse(metaText) as Record<string, unknown>;
    } catch (err) {
      throw new InvalidArgumentError(`${metaFile} is not valid JSON (${(err as Error).message}).`);
    }
    if (typeof meta.name === 'string') set.name = meta.name;
    if (typeof meta.description === 'string') set.description = meta.description;
    if (typeof meta.opposite === 'string') set.opposite = meta.opposite;
    if (typeof meta.evalPrompt === 'string') set.evalPrompt = meta.evalPrompt;
  }
  return set;
}
