/**
 * An LLM judge through any OpenAI-compatible `POST {baseURL}/chat/completions` endpoint (the
 * project's own server, llama.cpp's server, vLLM, a hosted API), scoring trait expression and
 * coherence 0–100 the way the persona-vectors paper does (Chen et al. 2025, "Persona Vectors",
 * appendix on evaluation): one token at temperature 0 with the top-20 log-probabilities; the score
 * is Σ p·k / Σ p over tokens that are integers k in 0..100, and no score when that integer mass is
 * below 0.25. Endpoints that return no log-probabilities are read as text instead.
 */
import { InvalidArgumentError, PersonaError } from '../../errors.js';
import { chatCompletionsUrl, postChatCompletion, type ChatEndpoint } from '../../util/postChatCompletion.js';
import { DEFAULT_COHERENCE_PROMPT, DEFAULT_TRAIT_PROMPT, renderPrompt } from './judgePrompts.js';
import { isRefusal, parseScoreText, ProtocolError, readCompletion, weightedScore, type Completion } from './judgeReply.js';
import type { Scorer, ScoreItem, ScoreValue } from './Scorer.js';

/**
 * The judge endpoint failed: a client error (bad URL, key, model), or repeated server or protocol errors.
 *
 * @example try { await judge.score(items); } catch (e) { if (e instanceof JudgeError) console.error(e.message); }
 */
export class JudgeError extends PersonaError {}

/** The trait the judge scores: a name and a sentence or two on what expressing it looks like. */
export interface JudgeTrait {
  name: string;
  description: string;
}

/** What the judge measures: `trait` (needs a {@link JudgeTrait}) and `coherence`. */
export type JudgeMetric = 'trait' | 'coherence';

/** How one judgement ended. `refused`: the judge said REFUSAL; `unparsed`: no usable number; `failed`: the request failed (with `onError: 'null'`). */
export type JudgeOutcome = 'scored' | 'refused' | 'unparsed' | 'failed';

/** Outcome counts for one metric; every answer lands in exactly one bucket. */
export interface JudgeCounts {
  scored: number;
  refused: number;
  unparsed: number;
  failed: number;
}

/** One judgement in detail. */
export interface JudgeDetail {
  value: number | null;
  outcome: JudgeOutcome;
  /** `logprobs`: weighted over top log-probabilities; `text`: parsed from the reply text. */
  method: 'logprobs' | 'text' | 'none';
  /** Probability mass on integer tokens 0..100 (logprobs method). */
  mass?: number;
  /** The judge's reply text (first token in logprobs mode), or the error message when failed. */
  reply: string;
}

/** Options of {@link createJudgeScorer}. */
export interface JudgeOptions {
  /** Base URL of the OpenAI-compatible API, e.g. `http://127.0.0.1:8080/v1`. */
  baseURL: string;
  /** Sent as `Authorization: Bearer …` when given. */
  apiKey?: string;
  /** Model name sent in the request. */
  model: string;
  /** The trait to score; without it only coherence is scored. */
  trait?: JudgeTrait;
  /** Which metrics to score (default: `trait` when a trait is given, and `coherence`). */
  metrics?: JudgeMetric[];
  /** Trait prompt template; placeholders `{trait}`, `{description}`, `{question}`, `{answer}`. */
  traitPrompt?: string;
  /** Coherence prompt template; placeholders `{question}`, `{answer}`. */
  coherencePrompt?: string;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Per-request timeout in ms (default 60 000). */
  timeoutMs?: number;
  /** Extra attempts after a failed request: network error, timeout, 408/409/429/5xx, malformed reply (default 3). */
  retries?: number;
  /** First retry delay in ms, doubling each time; a `Retry-After` header wins (default 500). */
  retryDelayMs?: number;
  /**
   * `auto` (default): ask for log-probabilities, and read the text of replies that carry none
   * (asking again with room for a few tokens when the one-token reply was cut short); `logprobs`:
   * as the paper, text only when none are returned; `text`: never ask for log-probabilities.
   */
  mode?: 'auto' | 'logprobs' | 'text';
  /** `max_tokens` when reading the text of the reply (default 8). */
  textMaxTokens?: number;
  /** Minimum probability mass on integer tokens for a logprob score (default 0.25, as the paper). */
  minMass?: number;
  /** After the last retry: `throw` (default) a {@link JudgeError}, or score `null` and count it as `failed`. */
  onError?: 'throw' | 'null';
  /** The fetch to use (default: global fetch). */
  fetch?: typeof fetch;
}

/** The judge scorer: a {@link Scorer} with metrics `trait` and/or `coherence`, plus outcome counts. */
export interface JudgeScorer extends Scorer {
  /** Scores answers and returns every judgement's detail and this call's counts. */
  judge(
    items: ScoreItem[],
  ): Promise<{ rows: Array<Record<string, ScoreValue>>; details: Array<Record<string, JudgeDetail>>; counts: Record<string, JudgeCounts> }>;
  /** Counts since the scorer was made (or last reset), per metric: refusals and unparseable replies are counted, not dropped. */
  counts(): Record<string, JudgeCounts>;
  resetCounts(): void;
}

/** An HTTP status that retrying will not fix. */
class FatalHttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

const newCounts = (): JudgeCounts => ({ scored: 0, refused: 0, unparsed: 0, failed: 0 });

/**
 * Makes an LLM-judge scorer. Rows carry `trait` and/or `coherence` (0–100, or `null` when refused,
 * unparseable or failed); `counts()` tells how many of each.
 *
 * @example
 * const judge = createJudgeScorer({ baseURL: 'http://127.0.0.1:8080/v1', model: 'judge', trait: { name: 'formal', description: 'Writes like a formal business letter.' } });
 * const rows = await judge.score([{ question: 'Invite Sam.', answer: 'Dear Sam, …' }]); // [{ trait: 91.2, coherence: 88.4 }]
 * judge.counts().trait; // { scored: 1, refused: 0, unparsed: 0, failed: 0 }
 */
export function createJudgeScorer(o: JudgeOptions): JudgeScorer {
  let url: string;
  try {
    url = new URL(chatCompletionsUrl(o.baseURL)).toString();
  } catch {
    throw new InvalidArgumentError(`judge baseURL "${o.baseURL}" is not a URL; give e.g. http://127.0.0.1:8080/v1`);
  }
  if (!o.model) throw new InvalidArgumentError('judge needs a model name');
  const metrics: JudgeMetric[] = o.metrics ?? (o.trait ? ['trait', 'coherence'] : ['coherence']);
  if (metrics.length === 0) throw new InvalidArgumentError('judge needs at least one metric');
  if (metrics.includes('trait') && !o.trait) throw new InvalidArgumentError('judge metric "trait" needs a trait { name, description }');
  const templates: Record<JudgeMetric, string> = { trait: o.traitPrompt ?? DEFAULT_TRAIT_PROMPT, coherence: o.coherencePrompt ?? DEFAULT_COHERENCE_PROMPT };
  for (const m of metrics) if (!templates[m].includes('{answer}')) throw new InvalidArgumentError(`judge ${m} prompt must contain the {answer} placeholder`);
  const concurrency = o.concurrency ?? 8;
  const timeoutMs = o.timeoutMs ?? 60_000;
  const retries = o.retries ?? 3;
  const retryDelayMs = o.retryDelayMs ?? 500;
  const textMaxTokens = o.textMaxTokens ?? 8;
  const minMass = o.minMass ?? 0.25;
  const endpoint: ChatEndpoint = { baseURL: o.baseURL, apiKey: o.apiKey, fetch: o.fetch };
  for (const [k, v] of Object.entries({ concurrency, textMaxTokens }))
    if (!(Number.isInteger(v) && v >= 1)) throw new InvalidArgumentError(`judge option ${k} must be a positive integer, got ${v}`);
  if (!(Number.isInteger(retries) && retries >= 0)) throw new InvalidArgumentError(`judge option retries must be a whole number ≥ 0, got ${retries}`);
  if (!(timeoutMs > 0)) throw new InvalidArgumentError(`judge option timeoutMs must be positive, got ${timeoutMs}`);
  let textOnly = o.mode === 'text';
  const total: Record<string, JudgeCounts> = Object.fromEntries(metrics.map((m) => [m, newCounts()]));

  async function post(prompt: string, asText: boolean, signal: AbortSignal): Promise<Completion> {
    const body: Record<string, unknown> = { model: o.model, messages: [{ role: 'user', content: prompt }], temperature: 0 };
    if (asText) body.max_tokens = textMaxTokens;
    else Object.assign(body, { max_tokens: 1, logprobs: true, top_logprobs: 20 });
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (signal.aborted) throw lastError ?? new JudgeError('judge cancelled');
      let wait = retryDelayMs * 2 ** attempt;
      try {
        const res = await postChatCompletion(endpoint, body, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]));
        const text = await res.text();
        if (!res.ok) {
          const retryAfter = Number(res.headers.get('retry-after'));
          if (Number.isFinite(retryAfter) && retryAfter > 0) wait = Math.min(30_000, retryAfter * 1000);
          if (res.status === 408 || res.status === 409 || res.status === 429 || res.status >= 500)
            throw new ProtocolError(`HTTP ${res.status}: ${text.slice(0, 200)}`);
          throw new FatalHttpError(`the judge endpoint ${url} answered HTTP ${res.status}: ${text.slice(0, 300)}`, res.status, text);
        }
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          throw new ProtocolError(`the reply is not valid JSON: ${JSON.stringify(text.slice(0, 80))}`);
        }
        return readCompletion(json);
      } catch (err) {
        if (err instanceof FatalHttpError) throw err;
        lastError = err;
        if (attempt < retries) await sleep(wait, signal);
      }
    }
    const why = lastError instanceof Error ? (lastError.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : lastError.message) : String(lastError);
    throw new JudgeError(`the judge endpoint ${url} failed after ${retries + 1} attempts: ${why}`, { cause: lastError });
  }

  function interpret(c: Completion, method: 'logprobs' | 'text'): JudgeDetail {
    if (method === 'logprobs' && c.tops) {
      const { value, mass } = weightedScore(c.tops, minMass);
      const top = c.tops.reduce((a, b) => (b.logprob > a.logprob ? b : a), c.tops[0]);
      const reply = c.content || top?.token || '';
      if (value !== null) return { value, outcome: 'scored', method, mass, reply };
      return { value: null, outcome: isRefusal(top?.token ?? '') || isRefusal(c.content) ? 'refused' : 'unparsed', method, mass, reply };
    }
    if (isRefusal(c.content)) return { value: null, outcome: 'refused', method: 'text', reply: c.content };
    const value = parseScoreText(c.content);
    return { value, outcome: value === null ? 'unparsed' : 'scored', method: 'text', reply: c.content };
  }

  async function judgeOne(prompt: string, signal: AbortSignal): Promise<JudgeDetail> {
    if (!textOnly) {
      let c: Completion;
      try {
        c = await post(prompt, false, signal);
      } catch (err) {
        // Some endpoints reject the logprobs parameters outright: read text from then on.
        if (o.mode !== 'logprobs' && err instanceof FatalHttpError && err.status === 400 && /logprob/i.test(err.body)) {
          textOnly = true;
          return interpret(await post(prompt, true, signal), 'text');
        }
        throw err;
      }
      if (c.tops) return interpret(c, 'logprobs');
      // No logprobs: a one-token reply cut short ("8" of "85") must be asked again with room.
      if (c.finishReason === 'length' && !isRefusal(c.content)) {
        if (o.mode !== 'logprobs') textOnly = true;
        return interpret(await post(prompt, true, signal), 'text');
      }
      return interpret(c, 'text');
    }
    return interpret(await post(prompt, true, signal), 'text');
  }

  async function judge(items: ScoreItem[]) {
    const jobs = items.flatMap((it, i) =>
      metrics.map((m) => ({
        i,
        m,
        prompt: renderPrompt(templates[m], { trait: o.trait?.name ?? '', description: o.trait?.description ?? '', question: it.question, answer: it.answer }),
      })),
    );
    const details: Array<Record<string, JudgeDetail>> = items.map(() => ({}));
    const controller = new AbortController();
    let next = 0;
    const worker = async () => {
      while (next < jobs.length && !controller.signal.aborted) {
        const job = jobs[next++];
        try {
          details[job.i][job.m] = await judgeOne(job.prompt, controller.signal);
        } catch (err) {
          if (o.onError === 'null' && !(err instanceof FatalHttpError)) {
            details[job.i][job.m] = { value: null, outcome: 'failed', method: 'none', reply: (err as Error).message };
          } else {
            controller.abort();
            throw err instanceof FatalHttpError ? new JudgeError(err.message) : err;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, jobs.length)) }, worker));
    const counts: Record<string, JudgeCounts> = Object.fromEntries(metrics.map((m) => [m, newCounts()]));
    for (const d of details)
      for (const m of metrics) {
        counts[m][d[m].outcome]++;
        total[m][d[m].outcome]++;
      }
    const rows = details.map((d) => Object.fromEntries(metrics.map((m) => [m, d[m].value])) as Record<string, ScoreValue>);
    return { rows, details, counts };
  }

  return {
    name: 'judge',
    metrics: [...metrics],
    judge,
    async score(items) {
      return (await judge(items)).rows;
    },
    counts: () => Object.fromEntries(Object.entries(total).map(([m, c]) => [m, { ...c }])),
    resetCounts() {
      for (const m of metrics) total[m] = newCounts();
    },
  };
}
