import { promises as fs } from 'node:fs';
import { PersonaError } from '../errors.js';

/** Options of {@link readJsonFile}. */
export interface ReadJsonFileOptions {
  /** The error class thrown (default `PersonaError`), e.g. `ModelFileError` for a model's files. */
  errorClass?: new (message: string, options?: { cause?: unknown }) => PersonaError;
  /** Added after the message when the file is not valid JSON, e.g. 'the file may be truncated, download it again.' */
  hint?: string;
  /** A missing file gives `undefined` instead of an error. */
  optional?: boolean;
}

/**
 * Reads a text file; every failure is an error of `errorClass` naming the file: not a regular file
 * (a folder, FIFO or device is refused before reading, as a FIFO would wait forever), cannot be read
 * (missing, unless `optional`: then `undefined`; no permission).
 *
 * @example const jinja = await readTextFile('chat_template.jinja', { errorClass: ModelFileError, optional: true });
 */
export async function readTextFile(file: string, opts: Omit<ReadJsonFileOptions, 'hint'> = {}): Promise<string | undefined> {
  const Err = opts.errorClass ?? PersonaError;
  try {
    if (!(await fs.stat(file)).isFile()) throw new Err(`${file} is not a regular file.`);
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof PersonaError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.optional) return undefined;
    throw new Err(`Cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}.`, { cause: err });
  }
}

/**
 * Reads and parses a JSON file; every failure is an error of `errorClass` naming the file: not a
 * regular file, cannot be read (missing, unless `optional`: then `undefined`), not valid JSON.
 *
 * @example const raw = await readJsonFile('config.json', { errorClass: ModelFileError });
 */
export async function readJsonFile(file: string, opts: ReadJsonFileOptions = {}): Promise<unknown> {
  const Err = opts.errorClass ?? PersonaError;
  const text = await readTextFile(file, opts);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Err(`${file} is not valid JSON (${(err as Error).message})${opts.hint ? `; ${opts.hint}` : '.'}`, { cause: err });
  }
}

/**
 * The parsed content of a JSON file, or `undefined` when it is missing, unreadable or not JSON:
 * for optional files and for sniffing what a file is.
 *
 * @example const meta = (await readJsonFileIfValid('golden.json')) ?? {};
 */
export async function readJsonFileIfValid(file: string): Promise<unknown> {
  try {
    return await readJsonFile(file);
  } catch {
    return undefined;
  }
}
