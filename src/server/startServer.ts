import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { DEFAULTS } from '../engine/defaults.js';
import { modelSpec, type ModelSpec } from '../engine/ModelSpec.js';
import { EngineWorker } from '../engine/worker/EngineWorker.js';
import { PersonaError } from '../errors.js';
import { DEFAULT_PERSONAS_DIR, PACKAGE_ROOT } from '../model/defaultModel.js';
import { loadTokenizer } from '../model/tokenizer/Tokenizer.js';
import { sweepStaleWrites } from '../util/sweepStaleWrites.js';
import type { CompletionRecord } from './chatCompletion.js';
import { createApp } from './createApp.js';
import { GenerationQueue } from './GenerationQueue.js';
import { PersonaStore } from './PersonaStore.js';
import { ReportIndex } from './ReportIndex.js';
import { TokenizerThread } from './TokenizerThread.js';

/**
 * The web page's files, shipped as plain HTML/CSS/JS (no build step).
 *
 * @example createApp({ ...deps, webDir: WEB_DIR });
 */
export const WEB_DIR = path.join(PACKAGE_ROOT, 'src', 'web');

/**
 * Options of `startServer` (the `persona serve` flags): the model's spec (`model` defaults to the
 * embedded stylist; `threads` to all cores but one, which serves HTTP) and the server's own settings
 * (defaults in `DEFAULTS.server`).
 *
 * @example const opts: ServeOptions = { port: 0, personasDir: 'personas', apiKey: process.env.PERSONA_API_KEY };
 */
export interface ServeOptions extends Partial<ModelSpec> {
  /** Folder of the personas served by name (default: the shipped `personas/`). */
  personasDir?: string;
  /** Folder whose HTML reports the page links to (default `results`). */
  reportsDir?: string;
  /** Address to bind (default 127.0.0.1: this machine only). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** When set, `/v1/*` and `/reports/*` need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Rows generated together in one batch (default 16). */
  maxBatch?: number;
  /** Rows that may wait for a batch before requests get 429 (default 64). */
  maxQueue?: number;
  /** Largest `max_tokens` (default 4096, and never past the model's context). */
  maxTokens?: number;
  /** `max_tokens` when a request gives none (default 256, within the context). */
  defaultMaxTokens?: number;
  /** Largest chat/projection request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Largest persona upload in bytes (default 32 MiB). */
  maxUploadBytes?: number;
  /**
   * Origins whose web pages may call the API (`--allow-origin`, like Ollama's OLLAMA_ORIGINS): exact
   * (`https://app.example.com`), with `*` for a port or subdomain part, or `*` for any. Default none:
   * only same-origin pages (the server's own) and non-browser clients.
   */
  allowOrigins?: string[];
  /** Persona uploads handled at once (default 2). */
  maxConcurrentUploads?: number;
  /** Largest total size of the persona folder (default 512 MiB). */
  maxPersonaFolderBytes?: number;
  /** Milliseconds a client may take to send its whole request, headers and body (default 30 s); 408 after. */
  requestTimeoutMs?: number;
  onCompletion?: (record: CompletionRecord) => void;
  log?: (line: string) => void;
}

/**
 * A running server.
 *
 * @example const server: PersonaServer = await startServer({ port: 0 }); console.log(server.url); await server.close();
 */
export interface PersonaServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  host: string;
  port: number;
  app: Hono;
  engine: EngineWorker;
  /** CPU threads the engine runs with. */
  threads: number;
  personas: PersonaStore;
  /** Stops listening, drops open connections, and stops the engine. */
  close(): Promise<void>;
}

/**
 * Starts the engine in a worker thread and serves the OpenAI-compatible API, the persona endpoints and
 * the web page.
 *
 * @example
 * const server = await startServer({ port: 0 });            // embedded stylist + shipped personas
 * const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none' });
 * await server.close();
 */
export async function startServer(opts: ServeOptions = {}): Promise<PersonaServer> {
  const host = opts.host ?? DEFAULTS.server.host;
  const maxBatch = opts.maxBatch ?? DEFAULTS.server.maxBatch;
  const maxQueue = opts.maxQueue ?? DEFAULTS.server.maxQueue;
  for (const [k, v] of Object.entries({ maxBatch, maxQueue })) {
    if (!Number.isInteger(v) || v < (k === 'maxQueue' ? 0 : 1)) throw new PersonaError(`${k} must be a whole number ≥ ${k === 'maxQueue' ? 0 : 1}; got ${v}.`);
  }
  // One core stays free for the HTTP thread: with every core in the engine, streaming many clients
  // starves it (measured on 2 cores: half the batched throughput).
  const spec = modelSpec(opts, { threads: Math.max(1, os.availableParallelism() - 1) });
  const threads = spec.threads!;
  // What killed writers left (persona temp and lock files, upload staging folders of a dead server).
  const swept = await sweepStaleWrites({ dirs: [path.resolve(opts.personasDir ?? DEFAULT_PERSONAS_DIR)], depth: 0 }).catch(() => undefined);
  if (swept?.removed.length)
    opts.log?.(`removed ${swept.removed.length} stale temp file(s) left by interrupted writers (${(swept.bytes / 1e6).toFixed(1)} MB)`);
  const engine = await EngineWorker.start(spec, { maxBatchRows: maxBatch });
  try {
    const tokenizer = await loadTokenizer(engine.info.dir);
    const tokenizerThread = new TokenizerThread(engine.info.dir);
    const context = engine.info.config.maxPositionEmbeddings;
    const maxTokens = Math.min(opts.maxTokens ?? DEFAULTS.server.maxTokens, context);
    const personas = new PersonaStore(path.resolve(opts.personasDir ?? DEFAULT_PERSONAS_DIR), engine.info);
    const app = createApp({
      engine,
      queue: new GenerationQueue(engine, { maxBatch, maxQueue }),
      personas,
      reports: new ReportIndex(path.resolve(opts.reportsDir ?? DEFAULTS.server.reportsDir)),
      tokenizer,
      webDir: WEB_DIR,
      modelId: engine.info.id,
      limits: { maxTokens, maxN: Math.min(8, maxBatch), defaultMaxTokens: Math.min(opts.defaultMaxTokens ?? DEFAULTS.server.defaultMaxTokens, maxTokens) },
      maxBodyBytes: opts.maxBodyBytes ?? DEFAULTS.server.maxBodyBytes,
      maxUploadBytes: opts.maxUploadBytes ?? DEFAULTS.server.maxUploadBytes,
      apiKey: opts.apiKey,
      host,
      allowOrigins: opts.allowOrigins,
      maxConcurrentUploads: opts.maxConcurrentUploads,
      maxPersonaFolderBytes: opts.maxPersonaFolderBytes,
      tokenizerThread,
      onCompletion: opts.onCompletion,
      log: opts.log,
    });
    // Slow clients: the whole request (headers and body) must arrive within requestTimeoutMs.
    const requestTimeout = opts.requestTimeoutMs ?? DEFAULTS.server.requestTimeoutMs;
    const server = createAdaptorServer({
      fetch: app.fetch,
      serverOptions: {
        requestTimeout,
        headersTimeout: Math.min(requestTimeout, 20_000),
        connectionsCheckingInterval: Math.max(100, Math.min(5000, requestTimeout / 4)),
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new PersonaError(`Port ${opts.port ?? DEFAULTS.server.port} on ${host} is in use; pick another with --port.`) : err),
      );
      server.listen(opts.port ?? DEFAULTS.server.port, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    let closing: Promise<void> | undefined;
    return {
      url,
      host,
      port,
      app,
      engine,
      threads,
      personas,
      close: () =>
        (closing ??= (async () => {
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          });
          await tokenizerThread.close();
          await engine.close();
        })()),
    };
  } catch (err) {
    await engine.close();
    throw err;
  }
}
