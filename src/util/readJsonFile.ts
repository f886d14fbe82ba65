import { promises as fs } from 'node:fs';
import { PersonaError } from '../errors.js';

/** Options of {@link readJsonFile}. */
export interface ReadJsonFileOptions {
  /** The error class thrown (default `PersonaError`), e.g. `ModelFileError` for a model's files. */
  errorClass?: new (message: string, options?: { cause?: unknown }) => PersonaError;
  /** Added after the message when the file is not valid JSON, e.g. 'the file may be truncated, download it again.' */
  hint?: string;
}

/**
 * Reads and parses a JSON file; every failure is an error of `errorClass` naming the file: not a
 * regular file (a folder, FIFO or device is refused before reading, as a FIFO would wait forever),
 * cannot be read (missing, no permission), not valid JSON.
 *
 * @example const raw = await readJsonFile('config.json', { errorClass: ModelFileError });
 */
export async function readJsonFile(file: string, opts: ReadJsonFileOptions = {}): Promise<unknown> {
  const Err = opts.errorClass ?? PersonaError;
  let text: string;
  try {
    if (!(await fs.stat(file)).isFile()) throw new Err(`${file} is not a regular file.`);
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof PersonaError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new Err(`Cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}.`, { cause: err });
  }
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
