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
import type { TokenizerThread } from './TokenizerThread.js';
import { vectorFileUpload } from './vectorFileUpload.js';

/**
 * Everything the HTTP app is built from (`startServer` assembles it).
 *
 * @example const app = createApp({ engine, queue, personas, reports, tokenizer, webDir: WEB_DIR, modelId: 'stylist', limits, maxBodyBytes: 1 << 20, maxUploadBytes: 32 << 20, host: '127.0.0.1' });
 */
export interface AppDeps {
  engine: Pick<EngineWorker, 'info' | 'tokenResiduals'>;
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
  /**
   * Web origins (`https://app.example.com`, `http://localhost:*`, `*`) whose pages may call the API
   * from a browser: their requests pass the cross-site check and get CORS headers. Others' are 403.
   */
  allowOrigins?: string[];
  /** Persona uploads handled at once (default 2); more are 429. */
  maxConcurrentUploads?: number;
  /** Largest total size of the persona folder in bytes (default 512 MiB); uploads beyond are 507. */
  maxPersonaFolderBytes?: number;
  /** Tokenizes big prompts off the HTTP thread (`startServer` gives one; small prompts are encoded inline). */
  tokenizerThread?: Pick<TokenizerThread, 'encodeChat'>;
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
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; frame-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Whether a host name or address is this machine's loopback: `localhost` (and `*.localhost`),
 * 127.0.0.0/8, `::1`, and IPv4-mapped `::ffff:127.x.x.x`.
 *
 * @example isLoopback('127.0.0.2'); // true
 */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(h)) return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** The host of a `Host` header, without its port (`[::1]:8080` → `::1`). */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']'));
  return h.replace(/:\d*$/, '');
}

/**
 * Whether an `Origin` is in an allow list: exact origins, `*` for any, or a `*` standing for one
 * port or subdomain part (`http://localhost:*`, `https://*.example.com`), as Ollama's OLLAMA_ORIGINS.
 *
 * @example originAllowed('http://localhost:5173', ['http://localhost:*']); // true
 */
export function originAllowed(origin: string, allow: readonly string[]): boolean {
  return allow.some((a) => {
    if (a === '*') return true;
    if (!a.includes('*')) return a.toLowerCase() === origin.toLowerCase();
    const re = new RegExp(
      '^' +
        a
          .toLowerCase()
          .split('*')
          .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[a-z0-9-]+') +
        '$',
    );
    return re.test(origin.toLowerCase());
  });
}

/** A request path as it may be written to a log line: control characters escaped, length capped. */
function logSafe(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this escapes
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Prompts longer than this many characters are tokenized in the tokenizer thread. */
const INLINE_PROMPT_CHARS = 32 * 1024;

const digest = (s: string) => createHash('sha256').update(s).digest();

async function readJson(c: Context): Promise<unknown> {
  // JSON only: a browser can send text/plain or a form cross-site without asking first (no CORS
  // preflight), application/json it cannot.
  const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    throw new ApiError(
      415,
      `Send the body as JSON with the header "Content-Type: application/json" (got ${type ? `"${type.slice(0, 60)}"` : 'none'}).`,
      'invalid_request_error',
      { code: 'unsupported_media_type' },
    );
  }
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

/** Characters of the longest token: no prompt of more than context × this many characters fits. */
function longestToken(tok: Tokenizer): number {
  let longest = 1;
  for (let id = 0; id < tok.vocabSize; id++) longest = Math.max(longest, tok.idToToken(id)?.length ?? 0);
  return longest;
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
  const loopbackOnly = isLoopback(d.host);
  const allowOrigins = d.allowOrigins ?? [];
  let uploads = 0;
  const maxUploads = d.maxConcurrentUploads ?? 2;

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
    const hostHeader = c.req.header('host') ?? '';
    if (loopbackOnly) {
      // DNS-rebinding protection: a page on another site must not reach a loopback-only server by name.
      const host = hostName(hostHeader);
      if (!isLoopback(host))
        throw new ApiError(
          403,
          `Host "${logSafe(host)}" is not served: this server listens on ${d.host} and answers only to loopback names (localhost, 127.0.0.0/8, ::1).`,
          'permission_error',
          { code: 'host_not_allowed' },
        );
    }
    // Cross-site requests: a page the user visits must not drive this server. Browsers send Origin
    // (and Sec-Fetch-Site) with every cross-site POST; tools and SDKs send neither.
    const origin = c.req.header('origin');
    const sameOrigin =
      origin !== undefined &&
      origin !== 'null' &&
      (() => {
        try {
          return new URL(origin).host.toLowerCase() === hostHeader.toLowerCase();
        } catch {
          return false;
        }
      })();
    const allowed = origin !== undefined && originAllowed(origin, allowOrigins);
    if (c.req.method === 'OPTIONS') {
      if (!allowed)
        throw new ApiError(
          403,
          `Cross-origin requests from ${origin === undefined ? 'this page' : `"${logSafe(origin)}"`} are not allowed; start the server with --allow-origin ${origin ?? '<origin>'} to allow them.`,
          'permission_error',
          { code: 'origin_not_allowed' },
        );
      return c.body(null, 204, {
        'access-control-allow-origin': origin!,
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': '600',
        vary: 'Origin',
      });
    }
    const fetchSite = c.req.header('sec-fetch-site');
    const crossSite = (origin !== undefined && !sameOrigin) || fetchSite === 'cross-site' || fetchSite === 'same-site';
    if (STATE_CHANGING.has(c.req.method) && crossSite && !allowed) {
      throw new ApiError(
        403,
        `Cross-site request refused: ${origin ? `the page at "${logSafe(origin)}"` : 'a page on another site'} may not call this server. Start it with --allow-origin <origin> to allow a web app.`,
        'permission_error',
        { code: 'origin_not_allowed' },
      );
    }
    await next();
    if (allowed && !sameOrigin) {
      c.header('access-control-allow-origin', origin!);
      c.header('vary', 'Origin', { append: true });
    }
    d.log?.(`${c.req.method} ${logSafe(c.req.path)} ${c.res.status} ${(performance.now() - t0).toFixed(0)}ms`);
  });

  const auth = async (c: Context, next: () => Promise<void>) => {
    if (keyDigest) {
      const m = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
      if (!m || !timingSafeEqual(digest(m[1].trim()), keyDigest)) {
        throw new ApiError(
          401,
          'Missing or wrong API key: send the header "Authorization: Bearer <key>" with the key the server was started with (--api-key).',
          'authentication_error',
          { code: 'invalid_api_key' },
        );
      }
    }
    await next();
  };
  app.use('/v1/*', auth);
  app.use('/reports/*', auth);

  app.get('/health', (c) => c.json({ status: 'ok', model: d.modelId, queue: d.queue.load }));

  const modelObject = () => {
    const { info } = d.engine;
    return {
      id: d.modelId,
      object: 'model',
      created: 0,
      owned_by: 'persona-vectors',
      num_layers: info.numLayers,
      hidden_size: info.hiddenSize,
      context_length: info.config.maxPositionEmbeddings,
      precision: info.precision,
    };
  };
  app.get('/v1/models', (c) => c.json({ object: 'list', data: [modelObject()] }));
  app.get('/v1/models/:id{.+}', (c) => {
    if (c.req.param('id') !== d.modelId)
      throw new ApiError(404, `The model "${c.req.param('id')}" is not served here; this server runs "${d.modelId}".`, 'not_found_error', {
        param: 'model',
        code: 'model_not_found',
      });
    return c.json(modelObject());
  });

  // The engine's own encoding (LanguageModel.encodePrompt), done here so it never waits for the
  // worker; big prompts in the tokenizer thread, so they do not hold the HTTP thread.
  const encodePrompt = async (messages: ChatMessage[], opts: { thinking?: boolean } = {}): Promise<number[]> => {
    const o = { addGenerationPrompt: true, enableThinking: opts.thinking === true };
    const chars = messages.reduce((n, m) => n + m.content.length, 0);
    if (d.tokenizerThread && chars > INLINE_PROMPT_CHARS) return d.tokenizerThread.encodeChat(messages, o);
    return d.tokenizer.encodeChat(messages, o);
  };
  const decode = (ids: number[]) => d.tokenizer.decode(ids, { skipSpecialTokens: true });
  const chatCtx: ChatCompletionContext = {
    engine: d.engine,
    encodePrompt,
    maxPromptChars: d.engine.info.config.maxPositionEmbeddings * longestToken(d.tokenizer),
    decode,
    queue: d.queue,
    personas: d.personas,
    limits: d.limits,
    modelId: d.modelId,
    onCompletion: d.onCompletion,
  };
  app.post('/v1/chat/completions', limit(d.maxBodyBytes), async (c) => chatCompletion(chatCtx, await readJson(c), c.req.raw.signal));
  app.post('/v1/projections', limit(d.maxBodyBytes), async (c) =>
    c.json(
      await projectionRoute(
        { engine: d.engine, personas: d.personas, tokenizer: d.tokenizer, encodePrompt, queue: d.queue },
        await readJson(c),
        c.req.raw.signal,
      ),
    ),
  );

  app.get('/v1/personas', async (c) => {
    // Paged as OpenAI's lists are (limit, after; has_more, first_id, last_id).
    const limitParam = c.req.query('limit');
    const pageSize = limitParam === undefined ? 100 : Number(limitParam);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)
      throw new ApiError(400, 'limit must be a whole number from 1 to 1000.', 'invalid_request_error', { param: 'limit' });
    const { personas, errors, hasMore } = await d.personas.list({ limit: pageSize, after: c.req.query('after') });
    return c.json({ object: 'list', data: personas, errors, has_more: hasMore, first_id: personas[0]?.id ?? null, last_id: personas.at(-1)?.id ?? null });
  });
  app.get('/v1/personas/:name', async (c) => {
    const name = c.req.param('name');
    return c.json(d.personas.detail(name, await d.personas.get(name)));
  });
  app.post('/v1/personas', async (c, next) => {
    // Each upload holds its body (up to --max-upload-bytes) in memory: only a few at once.
    if (uploads >= maxUploads)
      throw new ApiError(429, `${uploads} persona uploads are in progress (at most ${maxUploads} at once); retry when they finish.`, 'rate_limit_error', {
        code: 'too_many_uploads',
      });
    uploads++;
    try {
      await next();
    } finally {
      uploads--;
    }
  });
  app.post('/v1/personas', limit(d.maxUploadBytes), async (c) => {
    const body = (await readJson(c)) as { meta?: unknown; vectors?: unknown; format?: unknown };
    if (typeof body !== 'object' || body === null)
      throw new ApiError(
        400,
        'Send { "meta": <persona JSON>, "vectors": "<base64 safetensors>" }, or a vector file made elsewhere: { "format": "gguf" | "pt" | "pv-safetensors", "file": "<base64>", "name": "…" }.',
      );
    if (body.format !== undefined) {
      return c.json(
        await vectorFileUpload({ personas: d.personas, info: d.engine.info, modelId: d.modelId, maxFolderBytes: d.maxPersonaFolderBytes ?? 512 << 20 }, body),
        201,
      );
    }
    if (typeof body.vectors !== 'string' || body.vectors.length === 0 || body.vectors.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body.vectors)) {
      throw new ApiError(400, "vectors must be the persona's safetensors sidecar, base64-encoded.", 'invalid_request_error', { param: 'vectors' });
    }
    const detail = await d.personas.add(body.meta, Buffer.from(body.vectors, 'base64'), { maxFolderBytes: d.maxPersonaFolderBytes ?? 512 << 20 });
    return c.json(detail, 201);
  });

  app.get('/v1/reports', async (c) => c.json({ object: 'list', data: await d.reports.list() }));
  app.get('/reports/:name{.+}', async (c) => {
    let name: string;
    try {
      name = decodeURIComponent(c.req.param('name'));
    } catch {
      throw new ApiError(400, 'The report path is not valid percent-encoding.', 'invalid_request_error', { code: 'invalid_path' });
    }
    const file = await d.reports.resolve(name);
    if (!file) throw new ApiError(404, 'No such report; GET /v1/reports lists them.', 'not_found_error');
    return c.body(await fs.readFile(file), 200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': 'sandbox',
      'x-content-type-options': 'nosniff',
    });
  });

  const webFile = async (c: Context, name: string) => {
    const type = CONTENT_TYPES[path.extname(name)];
    const files = await fs.readdir(d.webDir).catch(() => [] as string[]);
    if (!type || !files.includes(name)) return c.json(new ApiError(404, `No page file ${name}.`, 'not_found_error').body(), 404);
    return c.body(await fs.readFile(path.join(d.webDir, name)), 200, {
      'content-type': type,
      'content-security-policy': PAGE_CSP,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
    });
  };
  app.get('/', (c) => webFile(c, 'index.html'));
  app.get('/:file{[A-Za-z0-9_-]+\\.(?:html|js|css|svg|png|ico)}', (c) => webFile(c, c.req.param('file')));
  return app;
}
