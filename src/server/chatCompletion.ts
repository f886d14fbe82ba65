import { randomBytes, randomInt } from 'node:crypto';
import type { ChatMessage } from '../engine/LanguageModel.js';
import type { EngineWorker, WorkerRow } from '../engine/worker/EngineWorker.js';
import { MonitorReadings, resolveMonitor } from './requestMonitor.js';
import { ApiError } from './ApiError.js';
import { chatRequestSchema, parseBody, steeringEntries, toMessages, type ChatLimits } from './chatRequestSchema.js';
import { CompletionChoice, type ChoiceEnd, type Piece } from './CompletionChoice.js';
import type { GenerationQueue } from './GenerationQueue.js';
import type { PersonaStore } from './PersonaStore.js';
import { resolveRequestSteering, type SteeringEcho } from './resolveRequestSteering.js';
import { sseBody } from './sseBody.js';

export type { SteeringEcho } from './resolveRequestSteering.js';

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
    throw new ApiError(
      400,
      `The messages have ${chars} characters, more than this model's context of ${context} tokens can hold (at most ${ctx.maxPromptChars} characters, its longest token times the context). Shorten the conversation.`,
      'invalid_request_error',
      { param: 'messages', code: 'context_length_exceeded' },
    );
  }
  const promptIds = await ctx.encodePrompt(messages, { thinking });
  const promptTokens = promptIds.length;
  const room = context - promptTokens;
  if (room < 1)
    throw new ApiError(
      400,
      `The messages take ${promptTokens} tokens, but this model's context is ${context} tokens. Shorten the conversation.`,
      'invalid_request_error',
      { param: 'messages', code: 'context_length_exceeded' },
    );
  const asked = b.max_completion_tokens ?? b.max_tokens;
  if (asked && asked > room) {
    throw new ApiError(
      400,
      `This model's context is ${context} tokens; the messages take ${promptTokens}, so max_tokens can be at most ${room} (got ${asked}).`,
      'invalid_request_error',
      {
        param: b.max_completion_tokens ? 'max_completion_tokens' : 'max_tokens',
        code: 'context_length_exceeded',
      },
    );
  }
  const maxNewTokens = asked ?? Math.min(ctx.limits.defaultMaxTokens, room);
  const n = b.n ?? 1;
  const seed = b.seed ?? randomInt(0, 2 ** 31);
  // Monitored rows carry their directions; the engine reads them in the generation's own forward calls.
  const monitor = targets ? new MonitorReadings(targets, n) : undefined;
  const rows: WorkerRow[] = Array.from({ length: n }, (_, i) => ({
    prompt: messages,
    maxNewTokens,
    sampling: {
      temperature: b.temperature ?? 1,
      topP: b.top_p ?? undefined,
      topK: b.top_k ?? undefined,
      minP: b.min_p ?? undefined,
      repetitionPenalty: b.repetition_penalty ?? undefined,
      seed: seed + i,
    },
    intervention,
    ...(thinking ? { thinking } : {}),
    ...(monitor ? { monitor: monitor.rowMonitor } : {}),
  }));
  const stops = b.stop === undefined || b.stop === null ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop;
  const topLogprobs = b.logprobs ? (b.top_logprobs ?? 0) : null;

  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const model = ctx.modelId;
  const choices = rows.map(() => new CompletionChoice(stops, thinking));
  const stopIds = new Set(ctx.engine.info.stopTokenIds);
  // Log-probabilities and token strings come with the engine's finished rows; without them, a
  // request is answered as soon as its own rows end, not when the whole batch does.
  const needResult = topLogprobs !== null;
  const done = new AbortController();
  // A persona whose file records the `does-not-steer` verdict: the completion (the first chunk when
  // streamed) carries `persona_warnings`, one line per such persona; absent otherwise.
  const extras = { persona_steering: echo.length ? echo : null, ...(warnings.length ? { persona_warnings: warnings } : {}) };
  // A choice's answer tokens so far (its closing end-of-turn token is not part of the answer).
  const answerLength = (c: CompletionChoice) => (c.ended === 'eos' ? c.tokens.length - 1 : c.tokens.length);
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
  const { body, send, end } = stream ? sseBody(() => done.abort()) : { body: undefined, send: () => {}, end: () => {} };
  // Thinking goes in `reasoning_content`, as vLLM and llama.cpp's server send it.
  const delta = (p: Piece) => ({ ...(p.reasoning ? { reasoning_content: p.reasoning } : {}), ...(p.content ? { content: p.content } : {}) });
  const chunk = (choiceList: unknown[], more: Record<string, unknown> = {}) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: null,
    choices: choiceList,
    ...more,
  });

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
        choices: choices.map((c, i) => ({
          index: i,
          text: c.text,
          finish_reason: ends ? ends[i].finishReason : null,
          token_ids: ends ? ends[i].tokenIds : c.tokens,
        })),
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
    send(
      chunk(
        rows.map((_, i) => ({ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null })),
        { ...extras, ...monitorField() },
      ),
    );
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
      if (signal.aborted)
        return finish(
          null,
          results.reduce((n, r) => n + r.tokens.length, 0),
        );
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
      send(
        chunk([
          {
            index: i,
            delta: {},
            logprobs: e.logprobs,
            finish_reason: e.finishReason,
            ...(b.return_token_ids ? { token_ids: e.tokenIds } : {}),
            ...(last?.length ? { persona_monitor: last } : {}),
          },
        ]),
      );
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
