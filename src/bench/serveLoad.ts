import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atomicWrite } from '../util/atomicWrite.js';
import { quantile } from '../util/numerics.js';
import { postChatCompletion } from '../util/postChatCompletion.js';
// The page's own SSE reader: src/web is served and shipped from the package root, not built into dist/.
import { sseChunks } from '../../src/web/sseChunks.js';

/**
 * The part of a streamed chat completion chunk the load test reads (the `openai` client's chunks fit).
 *
 * @example const chunk: ChunkLike = { id: 'chatcmpl-1', choices: [{ index: 0, delta: { content: 'Hi' } }] };
 */
export interface ChunkLike {
  id: string;
  choices: { index: number; delta?: { role?: string | null; content?: string | null } | null; finish_reason?: string | null }[];
  usage?: { completion_tokens: number } | null;
}

/**
 * Sends one streaming chat completion request and yields its chunks.
 *
 * @example const stream: StreamFn = fetchChatStream('http://127.0.0.1:8080');
 */
export type StreamFn = (body: Record<string, unknown>) => AsyncIterable<ChunkLike>;

/**
 * One streamed request as the client saw it.
 *
 * @example const bad = result.records.batched.filter((r: StreamRecord) => r.problems.length > 0);
 */
export interface StreamRecord {
  client: number;
  index: number;
  prompt: string;
  id: string;
  text: string;
  chunks: number;
  finishReason: string | null;
  completionTokens: number;
  latencyMs: number;
  firstTokenMs: number | null;
  /** What is wrong with the stream (empty when it is well formed). */
  problems: string[];
}

/**
 * Throughput and latency of one phase of the load test.
 *
 * @example const { tokensPerSecond, latencyMs }: PhaseStats = result.batched;
 */
export interface PhaseStats {
  requests: number;
  tokens: number;
  wallSeconds: number;
  tokensPerSecond: number;
  latencyMs: { p50: number; p95: number; max: number };
  firstTokenMs: { p50: number; p95: number };
}

/**
 * What `runServeLoad` sends.
 *
 * @example const opts: LoadOptions = { stream: fetchChatStream(url), clients: 16, requestsPerClient: 4, maxTokens: 32 };
 */
export interface LoadOptions {
  stream: StreamFn;
  /** Concurrent streaming clients in the batched phase (default 16). */
  clients?: number;
  /** Requests each client sends one after another (default 4). */
  requestsPerClient?: number;
  /** Requests sent strictly one at a time in the baseline phase (default 16). */
  sequentialRequests?: number;
  maxTokens?: number;
  /** Default 0 (greedy): the same prompt gives the same text batched or alone, which the test checks. */
  temperature?: number;
  /** Extra body fields cycled over the requests (e.g. different personas/alphas); default none. */
  steering?: Record<string, unknown>[];
}

/**
 * Both phases of a load run and their ratio.
 *
 * @example const { speedup }: LoadResult = await runServeLoad({ stream });
 */
export interface LoadResult {
  settings: Required<Omit<LoadOptions, 'stream'>>;
  /** The machine's 1-minute load average when the run began (other processes share the cores). */
  loadAverage: number;
  sequential: PhaseStats;
  batched: PhaseStats;
  /** Batched tokens/s ÷ one-at-a-time tokens/s. */
  speedup: number;
  records: { sequential: StreamRecord[]; batched: StreamRecord[] };
}

const KINDS = [
  'Thank {n} for the tea.',
  'Invite {n} to lunch on Friday.',
  'Apologise to {n} for the late reply.',
  'Describe a windy hill to {n}.',
  'Decline a meeting with {n}.',
  'Advise {n} on learning to cook.',
  'Explain to {n} why the train was late.',
  'Answer a complaint from {n} about noise.',
];
const NAMES = ['Ana', 'Sam', 'Reese', 'Casey', 'Avery', 'Jordan', 'Kim', 'Lee'];

/**
 * The i-th load-test prompt (64 distinct ones, then repeating).
 *
 * @example loadPrompt(0); // 'Thank Ana for the tea.'
 */
export function loadPrompt(i: number): string {
  return KINDS[i % KINDS.length].replace('{n}', NAMES[Math.floor(i / KINDS.length) % NAMES.length]);
}

async function runOne(o: LoadOptions & { maxTokens: number; temperature: number }, client: number, index: number, i: number): Promise<StreamRecord> {
  const prompt = loadPrompt(i);
  const steering = o.steering?.length ? o.steering[i % o.steering.length] : {};
  const body = {
    model: 'default',
    messages: [{ role: 'user', content: prompt }],
    max_tokens: o.maxTokens,
    temperature: o.temperature,
    seed: 1000 + i,
    stream: true,
    stream_options: { include_usage: true },
    ...steering,
  };
  const r: StreamRecord = {
    client,
    index,
    prompt,
    id: '',
    text: '',
    chunks: 0,
    finishReason: null,
    completionTokens: 0,
    latencyMs: 0,
    firstTokenMs: null,
    problems: [],
  };
  const t0 = performance.now();
  let sawRole = false;
  let sawUsage = false;
  try {
    for await (const chunk of o.stream(body)) {
      r.chunks++;
      if (!r.id) r.id = chunk.id;
      else if (chunk.id !== r.id) r.problems.push(`chunk ${r.chunks} has id ${chunk.id}, not ${r.id}`);
      if (chunk.usage) {
        sawUsage = true;
        r.completionTokens = chunk.usage.completion_tokens;
      }
      for (const c of chunk.choices) {
        if (c.index !== 0) r.problems.push(`chunk ${r.chunks} has choice index ${c.index}`);
        if (c.delta?.role) {
          if (r.chunks !== 1) r.problems.push(`role in chunk ${r.chunks}`);
          sawRole = true;
        }
        const piece = c.delta?.content ?? '';
        if (piece) {
          if (r.finishReason) r.problems.push(`content after finish_reason: ${JSON.stringify(piece)}`);
          if (r.firstTokenMs === null) r.firstTokenMs = performance.now() - t0;
          r.text += piece;
        }
        if (c.finish_reason) {
          if (r.finishReason) r.problems.push('finish_reason sent twice');
          r.finishReason = c.finish_reason;
        }
      }
    }
  } catch (err) {
    r.problems.push(`stream failed: ${(err as Error).message}`);
  }
  r.latencyMs = performance.now() - t0;
  if (!sawRole) r.problems.push('no role chunk');
  if (!r.finishReason) r.problems.push('no finish_reason');
  if (!sawUsage) r.problems.push('no usage chunk');
  return r;
}

function stats(records: StreamRecord[], wallMs: number): PhaseStats {
  const tokens = records.reduce((s, r) => s + r.completionTokens, 0);
  const lat = records.map((r) => r.latencyMs);
  const first = records.map((r) => r.firstTokenMs ?? r.latencyMs);
  const q = (xs: number[], p: number): number => (xs.length ? quantile(xs, p) : NaN);
  return {
    requests: records.length,
    tokens,
    wallSeconds: wallMs / 1000,
    tokensPerSecond: tokens / (wallMs / 1000),
    latencyMs: { p50: q(lat, 0.5), p95: q(lat, 0.95), max: Math.max(...lat) },
    firstTokenMs: { p50: q(first, 0.5), p95: q(first, 0.95) },
  };
}

/**
 * The serving load test: a warm-up request; `sequentialRequests` streamed strictly one at a time
 * (half before, half after the concurrent phase); and `clients` concurrent streaming clients each
 * sending `requestsPerClient` requests back to back — the same prompts, seeds and steering — so the
 * two throughputs compare in one run. Every stream is checked (one id, role first, one
 * finish_reason, nothing after it, usage present).
 *
 * @example
 * const result = await runServeLoad({ stream: fetchChatStream(server.url) });
 * console.log(result.batched.tokensPerSecond, result.speedup);
 */
export async function runServeLoad(opts: LoadOptions): Promise<LoadResult> {
  const o = { clients: 16, requestsPerClient: 4, sequentialRequests: 16, maxTokens: 32, temperature: 0, steering: [], ...opts };
  const loadAverage = os.loadavg()[0];
  await runOne(o, -1, 0, 0);
  // One-at-a-time requests run half before and half after the concurrent phase (A-B-A), so a drift
  // in the machine's other load weighs on both sides alike.
  const sequential: StreamRecord[] = [];
  let seqMs = 0;
  const oneAtATime = async (from: number, to: number) => {
    const t = performance.now();
    for (let i = from; i < to; i++) sequential.push(await runOne(o, 0, i, i));
    seqMs += performance.now() - t;
  };
  const half = Math.ceil(o.sequentialRequests / 2);
  await oneAtATime(0, half);
  const batched: StreamRecord[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.clients }, async (_, client) => {
      for (let k = 0; k < o.requestsPerClient; k++) batched.push(await runOne(o, client, k, k * o.clients + client));
    }),
  );
  const batMs = performance.now() - t0;
  await oneAtATime(half, o.sequentialRequests);
  const s = stats(sequential, seqMs);
  const b = stats(batched, batMs);
  const { stream: _stream, ...settings } = o;
  return { settings, loadAverage, sequential: s, batched: b, speedup: b.tokensPerSecond / s.tokensPerSecond, records: { sequential, batched } };
}

/**
 * A `StreamFn` over plain `fetch` and SSE parsing, for a server at `baseUrl`.
 *
 * @example const stream = fetchChatStream('http://127.0.0.1:8080', 'my-key');
 */
export function fetchChatStream(baseUrl: string, apiKey?: string): StreamFn {
  return async function* (body) {
    const res = await postChatCompletion({ baseURL: `${baseUrl}/v1`, apiKey }, body);
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    yield* sseChunks<ChunkLike>(res.body);
  };
}

const BEGIN = '<!-- serve-load:begin -->';
const END = '<!-- serve-load:end -->';
const ms = (x: number) => x.toFixed(0);

/**
 * Load results as a Markdown section: the table of the median run (by speedup) and every run's
 * speedup, with the machine it ran on.
 *
 * @example const md = loadMarkdown([result], { model: 'stylist', precision: 'f32' });
 */
export function loadMarkdown(runs: LoadResult[], about: { model: string; precision: string; threads?: number; checked?: string }): string {
  const sorted = [...runs].sort((a, b) => a.speedup - b.speedup);
  const r = sorted[Math.floor((sorted.length - 1) / 2)];
  const s = r.settings;
  const row = (label: string, p: PhaseStats) =>
    `| ${label} | ${p.requests} | ${p.tokens} | ${p.wallSeconds.toFixed(2)} | **${p.tokensPerSecond.toFixed(0)}** | ${ms(p.latencyMs.p50)} | ${ms(p.latencyMs.p95)} | ${ms(p.firstTokenMs.p50)} | ${ms(p.firstTokenMs.p95)} |`;
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return [
    BEGIN,
    `Measured ${new Date().toISOString().slice(0, 10)} by \`persona serve --bench\` on ${os.cpus().length} × ${cpu}, Node ${process.version}, shared with other work (1-minute load average ${runs.map((x) => x.loadAverage.toFixed(1)).join(' / ')} at the start of each run);`,
    `model \`${about.model}\` (${about.precision}${about.threads ? `, ${about.threads} engine thread${about.threads > 1 ? 's' : ''}` : ''}); streaming requests of ${s.maxTokens} tokens at most, temperature ${s.temperature}${s.temperature > 0 ? ', one seed per request' : ' (greedy)'}${s.steering.length ? `, steering cycled over ${s.steering.map((x) => JSON.stringify(x)).join(', ')}` : ''};`,
    `the one-at-a-time requests run half before and half after the concurrent phase.${runs.length > 1 ? ` The table is the median of ${runs.length} runs by speedup.` : ''}`,
    '',
    '| phase | requests | tokens | wall s | tokens/s | p50 latency ms | p95 latency ms | p50 first token ms | p95 first token ms |',
    '|---|---|---|---|---|---|---|---|---|',
    row('one at a time', r.sequential),
    row(`${s.clients} clients × ${s.requestsPerClient}, concurrent`, r.batched),
    '',
    `Batched serving: **${r.speedup.toFixed(1)} ×** the one-at-a-time throughput${runs.length > 1 ? ` (runs: ${runs.map((x) => `${x.speedup.toFixed(1)} ×`).join(', ')})` : ''}.${about.checked ? ` ${about.checked}` : ''}`,
    END,
  ].join('\n');
}

/**
 * Writes the load section into a Markdown file: replaces the previous one between its markers, or
 * appends it (creating the file when missing).
 *
 * @example await writeLoadSection('docs/serving.md', loadMarkdown(result, about));
 */
export async function writeLoadSection(file: string, section: string): Promise<void> {
  let text = '';
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  }
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  const next = a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + END.length) : `${text}${text && !text.endsWith('\n') ? '\n' : ''}\n${section}\n`;
  await atomicWrite(file, next);
}
