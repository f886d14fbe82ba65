import { randomBytes, randomInt } from 'node:crypto';
import type { ChatMessage } from '../engine/LanguageModel.js';
import type { Intervention } from '../engine/generate/Intervention.js';
import type { EngineWorker, RowResult, WorkerRow } from '../engine/worker/EngineWorker.js';
import { PersonaError } from '../errors.js';
import { normalizeLayer } from '../steering/PersonaVector.js';
import { resolveSteering, type SteerSpec } from '../steering/resolveSteering.js';
import { steeringWarning } from '../steering/steeringWarning.js';
import { MonitorReadings, resolveMonitor } from './requestMonitor.js';
import { ApiError } from './ApiError.js';
import { ReasoningSplitter } from '../model/tokenizer/splitReasoning.js';
import { chatRequestSchema, parseBody, steeringEntries, toMessages, type ChatLimits, type SteerEntry } from './chatRequestSchema.js';
import type { GenerationQueue } from './GenerationQueue.js';
import type { PersonaStore } from './PersonaStore.js';
import { StopMatcher } from './StopMatcher.js';

/**
 * What the chat route works with (built once by `createApp`).
 *
 * @example const ctx: ChatCompletionContext = { engine, encodePrompt, decode, queue, personas, limits, modelId: engine.info.id };
 */
export interface ChatCompletionContext {
  engine: Pick<EngineWorker, 'info'>;
  /**
   * Token ids of messages with the chat template applied, as the engine will encode them — on this
   * thread, so counting a prompt never waits behind a running batch in the worker.
   */
  encodePrompt: (messages: ChatMessage[], opts?: { thinking?: boolean }) => number[] | Promise<number[]>;
  /** Messages longer than this many characters cannot fit the context: refused before tokenizing. */
  maxPromptChars?: number;
  queue: GenerationQueue;
  personas: PersonaStore;
  limits: ChatLimits & { defaultMaxTokens: number };
  /** The model name the API reports. */
  modelId: string;
  /** Text of token ids, special tokens skipped, as the engine decodes an answer. */
  decode: (ids: number[]) => string;
  /** Called once per finished completion with what the server generated (logging, tests). */
  onCompletion?: (record: CompletionRecord) => void;
}

/**
 * The steering a completion ran with, defaults filled in (echoed as `persona_steering`).
 *
 * @example const echo: SteeringEcho = { persona: 'formal', alpha: 4, layer: 1, positions: 'all', units: 'gap' };
 */
export interface SteeringEcho {
  persona: string;
  /** null for ablate and cap, which take no alpha. */
  alpha: number | null;
  /** The first of `layers` (kept for clients of the one-layer form). */
  layer: number;
  layers: number[];
  positions: string;
  units: string;
  operator: 'add' | 'ablate' | 'cap';
  cap?: number;
}

/**
 * Token counts of a completion, as OpenAI reports them.
 *
 * @example const usage: Usage = { prompt_tokens: 17, completion_tokens: 32, total_tokens: 49 };
 */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/**
 * A finished completion as the server saw it (`ServeOptions.onCompletion`).
 *
 * @example await startServer({ onCompletion: (r: CompletionRecord) => console.log(r.id, r.choices[0].text) });
 */
export interface CompletionRecord {
  id: string;
  stream: boolean;
  cancelled: boolean;
  choices: { index: number; text: string; finish_reason: 'stop' | 'length' | null; token_ids: number[] }[];
  usage: Usage;
  steering: SteeringEcho[];
}

/** One token's entry in OpenAI's `logprobs.content`. */
interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

const bytesOf = (s: string) => Array.from(Buffer.from(s, 'utf8'));

/**
 * Turns a request's steering fields into one row intervention (personas by name from the store;
 * layer defaults to each persona's recommended layer). Bad layers, units or positions are 400s.
 *
 * @example const { intervention, echo } = await resolveRequestSteering(ctx, [{ persona: 'formal', alpha: 4 }]);
 */
export async function resolveRequestSteering(
  ctx: Pick<ChatCompletionContext, 'engine' | 'personas'>,
  entries: SteerEntry[],
  opts: { list?: boolean } = {},
): Promise<{ intervention: Intervention | null; echo: SteeringEcho[]; warnings: string[] }> {
  if (entries.length === 0) return { intervention: null, echo: [], warnings: [] };
  const isList = opts.list === true;
  const specs: SteerSpec[] = [];
  const echo: SteeringEcho[] = [];
  const warnings: string[] = [];
  for (const [i, e] of entries.entries()) {
    const persona = await ctx.personas.forSteering(e.persona);
    const warning = steeringWarning(persona);
    if (warning && !warnings.includes(warning)) warnings.push(warning);
    const param = (field: string) => (entries.length > 1 || isList ? `steering.${i}.${field}` : field);
    let layers: number[];
    try {
      layers = [...new Set((e.layers ?? [e.layer ?? persona.meta.recommendedLayer]).map((l) => normalizeLayer(l, ctx.engine.info.numLayers)))];
    } catch (err) {
      const field = e.layers ? 'layers' : 'layer';
      throw new ApiError(400, `${param(field)}: ${(err as Error).message}`, 'invalid_request_error', { param: param(field) });
    }
    const operator = e.operator ?? 'add';
    if (operator === 'add' && e.units === 'resid' && layers.some((l) => !(persona.meta.layers.find((x) => x.layer === l)?.residNorm))) {
      throw new ApiError(400, `${param('units')}: the persona "${e.persona}" has no residual norm at layer ${layers.join(', ')}, so units "resid" cannot scale it; use "gap" or "unit".`, 'invalid_request_error', { param: param('units') });
    }
    specs.push({ persona, alpha: e.alpha ?? 0, layers, positions: e.positions, units: e.units, operator, cap: e.cap });
    echo.push({ persona: e.persona, alpha: operator === 'add' ? e.alpha! : null, layer: layers[0], layers, positions: e.positions ?? 'all', units: e.units ?? 'gap', operator, ...(e.cap !== undefined ? { cap: e.cap } : {}) });
  }
  try {
    return { intervention: resolveSteering(ctx.engine.info, specs), echo, warnings };
  } catch (err) {
    if (err instanceof PersonaError) throw new ApiError(400, err.message, 'invalid_request_error', { param: 'steering' });
    throw err;
  }
}

/** How one choice ended, ready to send. */
interface ChoiceEnd {
  /** Text still to send (held back, or completed by the final result). */
  rest: Piece;
  finishReason: 'stop' | 'length';
  /** Answer token ids (without the end-of-turn token; cut at a stop string). */
  tokenIds: number[];
  logprobs: { content: TokenLogprob[]; refusal: null } | null;
}

/** Text to send, as answer and thinking. */
interface Piece {
  content: string;
  reasoning: string;
}

/** Per-choice bookkeeping: stop strings, what was streamed, the tokens seen, how it ended. */
class Choice {
  readonly matcher: StopMatcher;
  /** Raw text the engine streamed for this row (before stop-string cutting). */
  raw = '';
  /** Answer text sent to the client (without the thinking). */
  text = '';
  /** Thinking sent to the client (`reasoning_content`), when the request turned thinking on. */
  reasoning = '';
  private readonly splitter: ReasoningSplitter | null;
  tokens: number[] = [];
  /** Set once the row's last token has been seen (end of turn, length, or a stop string). */
  ended: 'eos' | 'length' | 'stop' | null = null;

  constructor(stops: string[], thinking: boolean) {
    this.matcher = new StopMatcher(stops);
    this.splitter = thinking ? new ReasoningSplitter() : null;
  }

  /** Text after the stop matcher, split into thinking and answer (all answer when thinking is off). */
  private split(out: string, last: boolean): Piece {
    if (!this.splitter) {
      this.text += out;
      return { content: out, reasoning: '' };
    }
    const a = this.splitter.push(out);
    const b = last ? this.splitter.flush() : { reasoning: '', content: '' };
    const p = { content: a.content + b.content, reasoning: a.reasoning + b.reasoning };
    this.text += p.content;
    this.reasoning += p.reasoning;
    return p;
  }

  /** Whether the answer had thinking (then `reasoning_content` is sent, even empty). */
  get thought(): boolean {
    return this.splitter?.sawReasoning === true;
  }

  /** A streamed token: returns the text to send now. */
  token(piece: string, id: number, stopIds: Set<number>, maxNewTokens: number): Piece {
    if (this.ended) return { content: '', reasoning: '' };
    this.tokens.push(id);
    this.raw += piece;
    const out = this.matcher.push(piece);
    if (this.matcher.stopped) this.ended = 'stop';
    else if (stopIds.has(id)) this.ended = 'eos';
    else if (this.tokens.length >= maxNewTokens) this.ended = 'length';
    return this.split(out, false);
  }

  /** Everything after the last streamed piece: `fullText` is the decoded answer (the stream may hold back an incomplete character). */
  private tail(fullText: string): Piece {
    let rest = '';
    if (!this.matcher.stopped && fullText.startsWith(this.raw) && fullText.length > this.raw.length) {
      const extra = fullText.slice(this.raw.length);
      this.raw += extra;
      rest += this.matcher.push(extra);
    }
    rest += this.matcher.flush();
    return this.split(rest, true);
  }

  /** The end as seen in the token stream (no log-probabilities asked for). */
  endFromStream(decode: (ids: number[]) => string): ChoiceEnd {
    const rest = this.tail(decode(this.tokens));
    const tokenIds = this.ended === 'eos' ? this.tokens.slice(0, -1) : this.tokens;
    return { rest, finishReason: this.ended === 'length' ? 'length' : 'stop', tokenIds, logprobs: null };
  }

  /** The end from the engine's finished row (with log-probabilities and token strings). */
  endFromResult(r: RowResult, topLogprobs: number | null): ChoiceEnd {
    const rest = this.tail(r.text);
    let kept = r.tokens.length;
    if (this.matcher.stopped) {
      // Tokens up to the one that completed the text before the stop string.
      let acc = 0;
      kept = 0;
      while (kept < r.tokens.length && acc < this.text.length) acc += r.tokenTexts[kept++].length;
    } else if (r.ended && kept > 0) {
      kept -= 1; // the end-of-turn token is not part of the answer
    }
    const finishReason = this.matcher.stopped || r.finishReason !== 'length' ? 'stop' : 'length';
    return { rest, finishReason, tokenIds: r.tokens.slice(0, kept), logprobs: topLogprobs === null ? null : logprobsOf(r, kept, topLogprobs) };
  }
}

function logprobsOf(r: RowResult, kept: number, top: number): { content: TokenLogprob[]; refusal: null } | null {
  if (!r.logprobs) return null;
  const content: TokenLogprob[] = [];
  for (let i = 0; i < kept && i < r.logprobs.length; i++) {
    const token = r.tokenTexts[i];
    content.push({
      token,
      logprob: r.logprobs[i],
      bytes: bytesOf(token),
      top_logprobs: (r.topLogprobs?.[i] ?? []).slice(0, top).map((t) => ({ token: t.token, logprob: t.logprob, bytes: bytesOf(t.token) })),
    });
  }
  return { content, refusal: null };
}

/** One compiled schema per server's limits (building a zod schema per request costs a millisecond). */
const schemas = new WeakMap<ChatLimits, ReturnType<typeof chatRequestSchema>>();

/**
 * `POST /v1/chat/completions`: validates the body, resolves steering, queues the rows with the
 * engine (batched with other requests), and answers as OpenAI does — one JSON object, or SSE chunks
 * `data: {...}` ending with `data: [DONE]`. Aborting `signal` (the client left) cancels generation.
 *
 * @example app.post('/v1/chat/completions', async (c) => chatCompletion(ctx, await readJson(c), c.req.raw.signal));
 */
export async function chatCompletion(ctx: ChatCompletionContext, json: unknown, signal: AbortSignal): Promise<Response> {
  let schema = schemas.get(ctx.limits);
  if (!schema) schemas.set(ctx.limits, (schema = chatRequestSchema(ctx.limits)));
  const b = parseBody(schema, json);
  const messages = toMessages(b);
  const { intervention, echo, warnings } = await resolveRequestSteering(ctx, steeringEntries(b), { list: b.steering !== undefined });
  const thinking = b.chat_template_kwargs?.enable_thinking === true;
  const targets = b.monitor ? await resolveMonitor(ctx, b.monitor) : null;

  const context = ctx.engine.info.config.maxPositionEmbeddings;
  const chars = messages.reduce((n, m) => n + m.content.length, 0);
  if (ctx.maxPromptChars !== undefined && chars > ctx.maxPromptChars) {
    throw new ApiError(400, `The messages have ${chars} characters, more than this model's context of ${context} tokens can hold (at most ${ctx.maxPromptChars} characters, its longest token times the context). Shorten the conversation.`, 'invalid_request_error', { param: 'messages', code: 'context_length_exceeded' });
  }
  const promptIds = await ctx.encodePrompt(messages, { thinking });
  const promptTokens = promptIds.length;
  const room = context - promptTokens;
  if (room < 1) throw new ApiError(400, `The messages take ${promptTokens} tokens, but this model's context is ${context} tokens. Shorten the conversation.`, 'invalid_request_error', { param: 'messages', code: 'context_length_exceeded' });
  const asked = b.max_completion_tokens ?? b.max_tokens;
  if (asked && asked > room) {
    throw new ApiError(400, `This model's context is ${context} tokens; the messages take ${promptTokens}, so max_tokens can be at most ${room} (got ${asked}).`, 'invalid_request_error', {
      param: b.max_completion_tokens ? 'max_completion_tokens' : 'max_tokens',
      code: 'context_length_exceeded',
    });
  }
  const maxNewTokens = asked ?? Math.min(ctx.limits.defaultMaxTokens, room);
  const n = b.n ?? 1;
  const seed = b.seed ?? randomInt(0, 2 ** 31);
  // Monitored rows carry their directions; the engine reads them in the generation's own forward calls.
  const monitor = targets ? new MonitorReadings(targets, n) : undefined;
  const rows: WorkerRow[] = Array.from({ length: n }, (_, i) => ({
    prompt: messages,
    maxNewTokens,
    sampling: { temperature: b.temperature ?? 1, topP: b.top_p ?? undefined, topK: b.top_k ?? undefined, minP: b.min_p ?? undefined, repetitionPenalty: b.repetition_penalty ?? undefined, seed: seed + i },
    intervention,
    ...(thinking ? { thinking } : {}),
    ...(monitor ? { monitor: monitor.rowMonitor } : {}),
  }));
  const stops = b.stop === undefined || b.stop === null ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop;
  const topLogprobs = b.logprobs ? (b.top_logprobs ?? 0) : null;

  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const model = ctx.modelId;
  const choices = rows.map(() => new Choice(stops, thinking));
  const stopIds = new Set(ctx.engine.info.stopTokenIds);
  // Log-probabilities and token strings come with the engine's finished rows; without them, a
  // request is answered as soon as its own rows end, not when the whole batch does.
  const needResult = topLogprobs !== null;
  const done = new AbortController();
  // A persona whose file records the `does-not-steer` verdict: the completion (the first chunk when
  // streamed) carries `persona_warnings`, one line per such persona; absent otherwise.
  const extras = { persona_steering: echo.length ? echo : null, ...(warnings.length ? { persona_warnings: warnings } : {}) };
  // A choice's answer tokens so far (its closing end-of-turn token is not part of the answer).
  const answerLength = (c: Choice) => (c.ended === 'eos' ? c.tokens.length - 1 : c.tokens.length);
  // Monitored: a choice is over once its answer tokens have all been read too (the last one is read
  // in the next forward call, or the batch's closing one).
  const over = () => choices.every((c, i) => c.ended && (!monitor || monitor.has(i, answerLength(c))));
  const monitorField = (ends?: ChoiceEnd[]) => (monitor ? { persona_monitor: monitor.field(ends?.map((e) => e.tokenIds.length)) } : {});
  // Per-token readings ride on the choice's next chunk: `persona_monitor: [{ token, values }]`.
  const readings = (row: number) => {
    const r = monitor?.take(row, answerLength(choices[row]));
    return r?.length ? { persona_monitor: r } : {};
  };

  const stream = b.stream === true;
  let send: (obj: unknown) => void = () => {};
  let end: () => void = () => {};
  let body: ReadableStream<Uint8Array> | undefined;
  if (stream) {
    const enc = new TextEncoder();
    let open = true;
    body = new ReadableStream<Uint8Array>({
      start(controller) {
        send = (obj) => {
          if (open) controller.enqueue(enc.encode(`data: ${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n\n`));
        };
        end = () => {
          if (open) controller.close();
          open = false;
        };
      },
      cancel() {
        open = false;
        done.abort();
      },
    });
  }
  // Thinking goes in `reasoning_content`, as vLLM and llama.cpp's server send it.
  const delta = (p: Piece) => ({ ...(p.reasoning ? { reasoning_content: p.reasoning } : {}), ...(p.content ? { content: p.content } : {}) });
  const chunk = (choiceList: unknown[], more: Record<string, unknown> = {}) => ({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: choiceList, ...more });

  let finish!: (ends: ChoiceEnd[] | null, completionTokens: number) => void;
  const finished = new Promise<{ ends: ChoiceEnd[] | null; usage: Usage }>((resolve) => {
    let settled = false;
    finish = (ends, completionTokens) => {
      if (settled) return;
      settled = true;
      const usage: Usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
      ctx.onCompletion?.({
        id,
        stream,
        cancelled: ends === null,
        choices: choices.map((c, i) => ({ index: i, text: c.text, finish_reason: ends ? ends[i].finishReason : null, token_ids: ends ? ends[i].tokenIds : c.tokens })),
        usage,
        steering: echo,
      });
      resolve({ ends, usage });
    };
  });
  const abort = AbortSignal.any([signal, done.signal]);
  // The first chunk (the role) waits for a monitored request's prompt-end readings, so it carries them.
  let roleSent = false;
  const sendRole = () => {
    if (!stream || roleSent) return;
    roleSent = true;
    send(chunk(rows.map((_, i) => ({ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null })), { ...extras, ...monitorField() }));
  };
  const maybeFinish = () => {
    if (!over()) return;
    if (!needResult) {
      finish(
        choices.map((x) => x.endFromStream(ctx.decode)),
        choices.reduce((k, x) => k + x.tokens.length, 0),
      );
      done.abort(); // the rows are over; free their places in the batch
    } else if (choices.every((x) => x.ended === 'stop' && x.matcher.stopped)) {
      done.abort();
    }
  };

  // Admission (429 when full) happens here, before any byte is sent.
  const pending = ctx.queue.submit(rows, {
    signal: abort,
    logprobs: topLogprobs,
    onToken: (row, text, token) => {
      const c = choices[row];
      if (c.ended) return;
      const out = c.token(text, token, stopIds, maxNewTokens);
      if (stream && (out.content || out.reasoning)) {
        sendRole();
        send(chunk([{ index: row, delta: delta(out), logprobs: null, finish_reason: null, ...readings(row) }]));
      }
      maybeFinish();
    },
    ...(monitor
      ? {
          onMonitor: (row: number, token: number, values: number[]) => {
            monitor.add(row, token, values);
            if (token < 0) sendRole();
            else maybeFinish();
          },
        }
      : {}),
  });
  pending.then(
    (results) => {
      if (signal.aborted) return finish(null, results.reduce((n, r) => n + r.tokens.length, 0));
      finish(
        results.map((r, i) => choices[i].endFromResult(r, topLogprobs)),
        results.reduce((n, r) => n + r.tokens.length, 0),
      );
    },
    () => {},
  );

  if (!stream) {
    // The answer is ready when its rows end (or with the engine's result); an engine error rejects.
    const { ends, usage } = await Promise.race([finished, pending.then(() => finished)]);
    if (!ends) return new Response(null, { status: 499 });
    return Response.json({
      id,
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: null,
      choices: ends.map((e, i) => ({
        index: i,
        message: { role: 'assistant', content: choices[i].text, ...(choices[i].thought ? { reasoning_content: choices[i].reasoning } : {}), refusal: null },
        logprobs: e.logprobs,
        finish_reason: e.finishReason,
        ...(b.return_token_ids ? { token_ids: e.tokenIds } : {}),
      })),
      usage,
      ...(b.return_token_ids ? { prompt_token_ids: promptIds } : {}),
      ...extras,
      ...monitorField(ends),
    });
  }

  if (!monitor) sendRole();
  finished.then(({ ends, usage }) => {
    if (!ends) return end();
    sendRole();
    ends.forEach((e, i) => {
      if (e.rest.content || e.rest.reasoning) send(chunk([{ index: i, delta: delta(e.rest), logprobs: null, finish_reason: null }]));
      const last = monitor?.take(i, e.tokenIds.length);
      send(chunk([{ index: i, delta: {}, logprobs: e.logprobs, finish_reason: e.finishReason, ...(b.return_token_ids ? { token_ids: e.tokenIds } : {}), ...(last?.length ? { persona_monitor: last } : {}) }]));
    });
    if (monitor) send(chunk([], monitorField(ends)));
    if (b.stream_options?.include_usage) send(chunk([], { usage }));
    send('[DONE]');
    end();
  });
  pending.catch((err: unknown) => {
    sendRole();
    const e = err instanceof ApiError ? err : new ApiError(500, `Generation failed: ${(err as Error).message}`, 'server_error');
    send(e.body());
    send('[DONE]');
    end();
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' } });
}
