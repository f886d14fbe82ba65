import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, PersonaError } from '../../errors.js';
import { atomicWrite } from '../../util/atomicWrite.js';
import { PROMPT_SET_FILES, type ContrastPrompt, type ContrastiveSet } from './PromptSet.js';
import { encodePromptLine } from './readPromptFile.js';

/**
 * Where `writePromptFiles` put each file.
 *
 * @example const { positive, negative } = await writePromptFiles(set, 'prompts/formal');
 */
export interface PromptFilePaths {
  positive: string;
  negative: string;
  heldOut: string;
  meta: string;
}

function toJsonl(prompts: ContrastPrompt[]): string {
  return prompts.map((p) => JSON.stringify(p.system === undefined ? { user: p.user } : { system: p.system, user: p.user })).join('\n') + '\n';
}

/**
 * Writes a contrastive set as editable files in `outDir` (created if needed), each atomically:
 * `positive.jsonl` and `negative.jsonl` (row-aligned `{"system", "user"}` lines, the format
 * `readPromptFile` reads), `questions-heldout.txt` (one question per line) and `persona.json`
 * (name, description, opposite, eval prompt, counts). `readPromptDir` reads the folder back.
 *
 * @example const files = await writePromptFiles(buildContrastiveSet({ description: 'formal and professional' }), 'prompts/formal');
 */
export async function writePromptFiles(set: ContrastiveSet, outDir: string): Promise<PromptFilePaths> {
  if (set.positive.length === 0 || set.negative.length === 0) {
    throw new InvalidArgumentError('The prompt set is empty; there is nothing to write.');
  }
  try {
    await fs.mkdir(outDir, { recursive: true });
  } catch (err) {
    throw new PersonaError(`Cannot create the output folder ${outDir}: ${(err as Error).message}`, { cause: err });
  }
  const files: PromptFilePaths = {
    positive: path.join(outDir, PROMPT_SET_FILES.positive),
    negative: path.join(outDir, PROMPT_SET_FILES.negative),
    heldOut: path.join(outDir, PROMPT_SET_FILES.heldOut),
    meta: path.join(outDir, PROMPT_SET_FILES.meta),
  };
  const heldOut = set.questionsHeldOut ?? [];
  const heldOutText =
    '# Held-out questions: kept out of extraction, used to check steering. One per line; \\n is a newline.\n' +
    heldOut.map((q) => `${encodePromptLine(q)}\n`).join('');
  const meta = {
    name: set.name,
    description: set.description,
    opposite: set.opposite,
    evalPrompt: set.evalPrompt,
    pairs: set.positive.length,
    heldOut: heldOut.length,
    files: PROMPT_SET_FILES,
  };
  try {
    await atomicWrite(files.positive, toJsonl(set.positive));
    await atomicWrite(files.negative, toJsonl(set.negative));
    await atomicWrite(files.heldOut, heldOutText);
    await atomicWrite(files.meta, `${JSON.stringify(meta, null, 2)}\n`);
  } catch (err) {
    throw new PersonaError(`Cannot write the prompt files in ${outDir}: ${(err as Error).message}`, { cause: err });
  }
  return files;
}
