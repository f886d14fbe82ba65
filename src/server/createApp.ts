import { createHash, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ChatMessage } from '../engine/LanguageModel.js';
import type { EngineWorker } from '../engine/worker/EngineWorker.js';
import { PersonaError } from '../errors.js';
import type { Tokenizer } from '../model/tokenizer/Tokenizer.js';
import { ApiError } from './ApiError.js';
import { chatCompletion, type ChatCompletionContext } from './chatCompletion.js';
import type { GenerationQueue } from './GenerationQueue.js';
import type { PersonaStore } from './PersonaStore.js';
import type { ReportIndex } from './ReportIndex.js';
import { projectionRoute } from './tokenProjections.js';

/**
 * Everything the HTTP app is built from (`startServer` assembles it).
 *
 * @example const app = createApp({ engine, queue, personas, reports, tokenizer, webDir: WEB_DIR, modelId: 'stylist', limits, maxBodyBytes: 1 << 20, maxUploadBytes: 32 << 20, host: '127.0.0.1' });
 */
export interface AppDeps {
  engine: Pick<EngineWorker, 'info' | 'activations'>;
  queue: GenerationQueue;
  personas: PersonaStore;
  reports: ReportIndex;
  tokenizer: Tokenizer;
  /** Folder of the web page (index.html, app.js, style.css). */
  webDir: string;
  modelId: string;
  limits: ChatCompletionContext['limits'];
  /** Largest request body in bytes (chat, projections); 413 beyond. */
  maxBodyBytes: number;
  /** Largest persona upload body in bytes. */
  maxUploadBytes: number;
  /** Bearer key every `/v1/*` and `/reports/*` request must carry; none when undefined. */
  apiKey?: string;
  /** The address the server binds to; on a loopback address only loopback `Host` headers are served. */
  host: string;
  onCompletion?: ChatCompletionContext['onCompletion'];
  log?: (line: string) => void;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The page may talk to this server only; reports render in a sandboxed frame (their CSS is inline). */
const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; frame-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

const digest = (s: string) => createHash('sha256').update(s).digest();

async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim()) throw new ApiError(400, 'The request body is empty; send a JSON object.', 'invalid_request_error', { code: 'invalid_json' });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `The request body is not valid JSON: ${(err as Error).message}`, 'invalid_request_error', { code: 'invalid_json' });
  }
}

function limit(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError(413, `The request body is larger than this server accepts (${maxSize} bytes).`, 'invalid_request_error', { code: 'body_too_large' });
    },
  });
}

/**
 * The HTTP API and the web page as a Hono app: OpenAI-compatible chat completions and model list,
 * persona list/get/upload, per-token projections, reports, and the page at `/`.
 *
 * @example
 * const app = createApp(deps);
 * serve({ fetch: app.fetch, port: 8080, hostname: '127.0.0.1' });
 */
export function createApp(d: AppDeps): Hono {
  const app = new Hono();
  const keyDigest = d.apiKey ? digest(d.apiKey) : null;
  const loopbackOnly = LOOPBACK.has(d.host);

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      // The client may still be sending the refused body: do not reuse this connection.
      if (err.status === 413) c.header('connection', 'close');
      return c.json(err.body(), err.status);
    }
    if (err instanceof HTTPException) return c.json(new ApiError(err.status as 400, err.message || 'Bad request.').body(), err.status);
    if (err instanceof PersonaError) return c.json(new ApiError(400, err.message).body(), 400);
    d.log?.(`error: ${(err as Error).stack ?? err}`);
    return c.json(new ApiError(500, `Internal error: ${(err as Error).message}`, 'server_error').body(), 500);
  });
  app.notFound((c) => c.json(new ApiError(404, `No route ${c.req.method} ${c.req.path}.`, 'not_found_error').body(), 404));

  app.use('*', async (c, next) => {
    const t0 = performance.now();
    if (loopbackOnly) {
      // DNS-rebinding protection: a page on another site must not reach a loopback-only server by name.
      const host = (c.req.header('host') ?? '').replace(/:\d+$/, '').toLowerCase();
      if (!LOOPBACK.has(host)) throw new ApiError(403, `Host "${host}" is not served: this server listens on ${d.host} and answers only to localhost names.`, 'permission_error', { code: 'host_not_allowed' });
    }
    await next();
    d.log?.(`${c.req.method} ${c.req.path} ${c.res.status} ${(performance.now() - t0).toFixed(0)}ms`);
  });

  const auth = async (c: Context, next: () => Promise<void>) => {
    if (keyDigest) {
      const m = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
      if (!m || !timingSafeEqual(digest(m[1].trim()), keyDigest)) {
        throw new ApiError(401, 'Missing or wrong API key: send the header "Authorization: Bearer <key>" with the key the server was started with (--api-key).', 'authentication_error', { code: 'invalid_api_key' });
      }
    }
    await next();
  };
  app.use('/v1/*', auth);
  app.use('/reports/*', auth);

  app.get('/health', (c) => c.json({ status: 'ok', model: d.modelId, queue: d.queue.load }));

  const modelObject = () => {
    const { info } = d.engine;
    return { id: d.modelId, object: 'model', created: 0, owned_by: 'persona-vectors', num_layers: info.numLayers, hidden_size: info.hiddenSize, context_length: info.config.maxPositionEmbeddings, precision: info.precision };
  };
  app.get('/v1/models', (c) => c.json({ object: 'list', data: [modelObject()] }));
  app.get('/v1/models/:id{.+}', (c) => {
    if (c.req.param('id') !== d.modelId) throw new ApiError(404, `The model "${c.req.param('id')}" is not served here; this server runs "${d.modelId}".`, 'not_found_error', { param: 'model', code: 'model_not_found' });
    return c.json(modelObject());
  });

  // The engine's own encoding (LanguageModel.encodePrompt), done here so it never waits for the worker.
  const encodePrompt = (messages: ChatMessage[]) => d.tokenizer.encodeChat(messages, { addGenerationPrompt: true });
  const decode = (ids: number[]) => d.tokenizer.decode(ids, { skipSpecialTokens: true });
  const chatCtx: ChatCompletionContext = { engine: d.engine, encodePrompt, decode, queue: d.queue, personas: d.personas, limits: d.limits, modelId: d.modelId, onCompletion: d.onCompletion };
  app.post('/v1/chat/completions', limit(d.maxBodyBytes), async (c) => chatCompletion(chatCtx, await readJson(c), c.req.raw.signal));
  app.post('/v1/projections', limit(d.maxBodyBytes), async (c) => c.json(await projectionRoute({ engine: d.engine, personas: d.personas, tokenizer: d.tokenizer, encodePrompt }, await readJson(c))));

  app.get('/v1/personas', async (c) => {
    const { personas, errors } = await d.personas.list();
    return c.json({ object: 'list', data: personas, errors });
  });
  app.get('/v1/personas/:name', async (c) => {
    const name = c.req.param('name');
    return c.json(d.personas.detail(name, await d.personas.get(name)));
  });
  app.post('/v1/personas', limit(d.maxUploadBytes), async (c) => {
    const body = (await readJson(c)) as { meta?: unknown; vectors?: unknown };
    if (typeof body !== 'object' || body === null) throw new ApiError(400, 'Send { "meta": <persona JSON>, "vectors": "<base64 safetensors>" }.');
    if (typeof body.vectors !== 'string' || body.vectors.length === 0 || body.vectors.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body.vectors)) {
      throw new ApiError(400, 'vectors must be the persona\'s safetensors sidecar, base64-encoded.', 'invalid_request_error', { param: 'vectors' });
    }
    const detail = await d.personas.add(body.meta, Buffer.from(body.vectors, 'base64'));
    return c.json(detail, 201);
  });

  app.get('/v1/reports', async (c) => c.json({ object: 'list', data: await d.reports.list() }));
  app.get('/reports/:name{.+}', async (c) => {
    const file = await d.reports.resolve(decodeURIComponent(c.req.param('name')));
    if (!file) throw new ApiError(404, 'No such report; GET /v1/reports lists them.', 'not_found_error');
    return c.body(await fs.readFile(file), 200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': 'sandbox', 'x-content-type-options': 'nosniff' });
  });

  const webFile = async (c: Context, name: string) => {
    const type = CONTENT_TYPES[path.extname(name)];
    const files = await fs.readdir(d.webDir).catch(() => [] as string[]);
    if (!type || !files.includes(name)) return c.json(new ApiError(404, `No page file ${name}.`, 'not_found_error').body(), 404);
    return c.body(await fs.readFile(path.join(d.webDir, name)), 200, { 'content-type': type, 'content-security-policy': PAGE_CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' });
  };
  app.get('/', (c) => webFile(c, 'index.html'));
  app.get('/:file{[A-Za-z0-9_-]+\\.(?:html|js|css|svg|png|ico)}', (c) => webFile(c, c.req.param('file')));
  return app;
}
