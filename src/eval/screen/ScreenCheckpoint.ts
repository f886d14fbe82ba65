import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { InvalidArgumentError } from '../../errors.js';
import { atomicWrite } from '../../util/atomicWrite.js';

/** One screened sample: its line in the dataset, both projections per persona (in target order) and the model's own answer. */
export interface ScreenRecord {
  line: number;
  id?: string;
  dataset: number[];
  generated: number[];
  answer: string;
}

/** The first line of a checkpoint: what the records belong to. */
export interface ScreenHeader {
  fingerprint: string;
  dataset: string;
  personas: { name: string; layer: number }[];
  unit: string;
}

const KIND = 'persona.screen.checkpoint';

/**
 * The progress file of a screening run: a header line, then one JSON line per finished sample,
 * appended a batch at a time with one write and an fsync. A run killed mid-write leaves at most a
 * torn last line, which `open` cuts off, so the file always reads as whole records.
 *
 * @example
 * const ckpt = new ScreenCheckpoint('out/screen.checkpoint.jsonl');
 * const done = await ckpt.open(header); // line numbers already screened
 * await ckpt.append(records);
 */
export class ScreenCheckpoint {
  constructor(readonly file: string) {}

  /** Creates the file (header only) or checks an existing one against `header`; returns the finished lines. */
  async open(header: ScreenHeader): Promise<Set<number>> {
    let existing: string | undefined;
    try {
      existing = (await fs.stat(this.file)).isFile() ? this.file : undefined;
    } catch {
      existing = undefined;
    }
    if (!existing) {
      await fs.mkdir(path.dirname(path.resolve(this.file)), { recursive: true });
      await atomicWrite(this.file, JSON.stringify({ object: KIND, ...header }) + '\n');
      return new Set();
    }
    const done = new Set<number>();
    let good = 0;
    let first = true;
    let torn = false;
    for await (const { text, bytes, complete } of lines(this.file)) {
      let rec: unknown;
      try {
        rec = JSON.parse(text);
      } catch {
        rec = undefined;
      }
      if (first) {
        const h = rec as (ScreenHeader & { object?: string }) | undefined;
        if (!complete || !h || h.object !== KIND)
          throw new InvalidArgumentError(`${this.file} is not a screening checkpoint; delete it or choose another output folder.`);
        if (h.fingerprint !== header.fingerprint) {
          throw new InvalidArgumentError(
            `${this.file} was made with other settings (personas, layers, model or generation options): its samples cannot be mixed with this run's. Delete it (or pass --restart) to start over.`,
          );
        }
        first = false;
        good += bytes;
        continue;
      }
      const r = rec as ScreenRecord | undefined;
      if (!complete || !r || !Number.isInteger(r.line) || !Array.isArray(r.dataset)) {
        torn = true;
        break;
      }
      done.add(r.line);
      good += bytes;
    }
    if (first) throw new InvalidArgumentError(`${this.file} is empty; delete it to start over.`);
    if (torn || (await fs.stat(this.file)).size !== good) await fs.truncate(this.file, good);
    return done;
  }

  /** Appends finished records with one write and an fsync. */
  async append(records: ScreenRecord[]): Promise<void> {
    if (records.length === 0) return;
    const h = await fs.open(this.file, 'a');
    try {
      await h.writeFile(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      await h.sync();
    } finally {
      await h.close();
    }
  }

  /** The header line. */
  async header(): Promise<ScreenHeader> {
    for await (const { text } of lines(this.file)) return JSON.parse(text) as ScreenHeader;
    throw new InvalidArgumentError(`${this.file} is empty.`);
  }

  /** Streams the records (after the header). */
  async *records(): AsyncGenerator<ScreenRecord> {
    let first = true;
    for await (const { text } of lines(this.file)) {
      if (first) {
        first = false;
        continue;
      }
      yield JSON.parse(text) as ScreenRecord;
    }
  }
}

/** Lines of a file with their byte length (newline included) and whether they ended with a newline. */
async function* lines(file: string): AsyncGenerator<{ text: string; bytes: number; complete: boolean }> {
  const { size } = await fs.stat(file);
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let seen = 0;
  try {
    for await (const text of rl) {
      const n = Buffer.byteLength(text, 'utf8');
      const complete = seen + n + 1 <= size;
      seen += n + 1;
      yield { text, bytes: complete ? n + 1 : n, complete };
    }
  } finally {
    rl.close();
  }
}
