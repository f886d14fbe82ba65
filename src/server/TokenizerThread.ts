import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChatTemplateMessage, ChatTemplateOptions } from '../model/tokenizer/chatTemplate.js';
import { PACKAGE_ROOT } from '../model/defaultModel.js';
import { PersonaError } from '../errors.js';

/** The compiled Tokenizer module (dist/), also when this file runs from src/ under a test runner. */
function tokenizerModule(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const sibling = path.join(here, '..', 'model', 'tokenizer', 'Tokenizer.js');
  if (existsSync(sibling)) return sibling;
  const built = path.join(PACKAGE_ROOT, 'dist', 'model', 'tokenizer', 'Tokenizer.js');
  if (existsSync(built)) return built;
  throw new PersonaError(`The tokenizer module is not built (${built}). Run npm run build.`);
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.module).then(async ({ loadTokenizer }) => {
  const tok = await loadTokenizer(workerData.dir);
  parentPort.on('message', ({ id, messages, opts }) => {
    try { parentPort.postMessage({ id, ids: tok.encodeChat(messages, opts) }); }
    catch (err) { parentPort.postMessage({ id, error: err.message }); }
  });
  parentPort.postMessage({ ready: true });
}, (err) => parentPort.postMessage({ id: -1, error: err.message }));
`;

/**
 * A second copy of the model's tokenizer in its own thread, for prompts big enough that encoding
 * them on the HTTP thread would hold every other client (a 1 MiB prompt takes about a second).
 * Started on first use; `close()` stops it.
 *
 * @example const t = new TokenizerThread('models/stylist'); const ids = await t.encodeChat(messages); await t.close();
 */
export class TokenizerThread {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private nextId = 0;
  private pending = new Map<number, { resolve: (ids: number[]) => void; reject: (e: Error) => void }>();

  constructor(private readonly dir: string) {}

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: pathToFileURL(tokenizerModule()).href, dir: this.dir } });
    worker.unref();
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { ready?: boolean; id?: number; ids?: number[]; error?: string }) => {
        if (m.ready) return resolve();
        if (m.id === -1) return reject(new PersonaError(`The tokenizer thread could not start: ${m.error}`));
        const p = this.pending.get(m.id!);
        this.pending.delete(m.id!);
        if (m.error !== undefined) p?.reject(new PersonaError(m.error));
        else p?.resolve(m.ids!);
      });
      worker.on('error', (err) => {
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
    });
    return this.ready;
  }

  /** `Tokenizer.encodeChat` in the thread. */
  async encodeChat(messages: readonly ChatTemplateMessage[], opts: ChatTemplateOptions = {}): Promise<number[]> {
    await this.start();
    const id = this.nextId++;
    return new Promise<number[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ id, messages, opts });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = null;
    this.ready = null;
  }
}
