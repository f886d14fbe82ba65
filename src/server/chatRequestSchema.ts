import { z } from 'zod';
import type { ChatMessage } from '../engine/LanguageModel.js';
import { POSITIONS } from '../engine/generate/Intervention.js';
import { UNITS } from '../steering/resolveSteering.js';
import { ApiError } from './ApiError.js';
import { personaNameSchema } from './personaName.js';

/**
 * Bounds a chat request is checked against (server settings).
 *
 * @example const limits: ChatLimits = { maxTokens: 512, maxN: 8 };
 */
export interface ChatLimits {
  /** Largest `max_tokens` accepted (also bounded by the model's context). */
  maxTokens: number;
  /** Largest `n` (rows per request). */
  maxN: number;
}

const alphaSchema = z.number().min(-1e4).max(1e4);
const layerSchema = z.number().int();
const steerEntry = z.object({
  persona: personaNameSchema,
  alpha: alphaSchema,
  layer: layerSchema.optional(),
  positions: z.enum(POSITIONS as unknown as ['all', 'prompt', 'response']).optional(),
  units: z.enum(UNITS as unknown as ['gap', 'unit', 'resid']).optional(),
});

/**
 * One persona steering request: `{ persona, alpha, layer?, positions?, units? }`.
 *
 * @example const entry: SteerEntry = { persona: 'formal', alpha: -4, layer: 3 };
 */
export type SteerEntry = z.infer<typeof steerEntry>;

const textPart = z.object({ type: z.literal('text'), text: z.string() });
/**
 * One chat message as OpenAI sends it (`content` a string or text parts; `developer` is a system message).
 *
 * @example messageSchema.parse({ role: 'user', content: [{ type: 'text', text: 'Hi' }] });
 */
export const messageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(textPart).max(64)]),
  name: z.string().optional(),
});

/**
 * The body of `POST /v1/chat/completions`: OpenAI's fields that apply to a local model, plus
 * steering (`persona`/`alpha`/`layer`/`positions`/`units`, or `steering: [...]`) and a few sampling
 * extensions (`top_k`, `min_p`, `repetition_penalty`, `return_token_ids`). Unknown fields are ignored,
 * as OpenAI-compatible servers do.
 *
 * @example const body = chatRequestSchema({ maxTokens: 512, maxN: 8 }).parse(json);
 */
export function chatRequestSchema(limits: ChatLimits) {
  return z
    .object({
      model: z.string().optional(),
      messages: z.array(messageSchema).min(1, { error: 'give at least one message' }).max(512),
      stream: z.boolean().optional(),
      stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
      max_tokens: z.number().int().min(1).max(limits.maxTokens, { error: `must be at most ${limits.maxTokens} on this server (the model's context or --max-tokens)` }).nullish(),
      max_completion_tokens: z.number().int().min(1).max(limits.maxTokens, { error: `must be at most ${limits.maxTokens} on this server (the model's context or --max-tokens)` }).nullish(),
      temperature: z.number().min(0).max(2).nullish(),
      top_p: z.number().gt(0).max(1).nullish(),
      top_k: z.number().int().min(0).nullish(),
      min_p: z.number().min(0).lt(1).nullish(),
      repetition_penalty: z.number().gt(0).max(10).nullish(),
      seed: z.number().int().nullish(),
      n: z.number().int().min(1).max(limits.maxN, { error: `must be at most ${limits.maxN} on this server` }).nullish(),
      stop: z.union([z.string().min(1).max(64), z.array(z.string().min(1).max(64)).max(4)]).nullish(),
      logprobs: z.boolean().nullish(),
      top_logprobs: z.number().int().min(0).max(20).nullish(),
      return_token_ids: z.boolean().optional(),
      persona: personaNameSchema.optional(),
      alpha: alphaSchema.optional(),
      layer: layerSchema.optional(),
      positions: steerEntry.shape.positions,
      units: steerEntry.shape.units,
      steering: z.array(steerEntry).min(1).max(8).optional(),
    })
    .superRefine((b, ctx) => {
      const single = b.persona !== undefined || b.alpha !== undefined || b.layer !== undefined || b.positions !== undefined || b.units !== undefined;
      if (single && b.steering) ctx.addIssue({ code: 'custom', path: ['steering'], message: 'give either persona/alpha or steering: [...], not both' });
      if (b.persona !== undefined && b.alpha === undefined) ctx.addIssue({ code: 'custom', path: ['alpha'], message: 'alpha is required with persona (0 leaves the model unsteered)' });
      if (b.persona === undefined && (b.alpha !== undefined || b.layer !== undefined || b.positions !== undefined || b.units !== undefined))
        ctx.addIssue({ code: 'custom', path: ['persona'], message: 'alpha, layer, positions and units need a persona' });
      if (b.top_logprobs && !b.logprobs) ctx.addIssue({ code: 'custom', path: ['top_logprobs'], message: 'top_logprobs needs logprobs: true' });
    });
}

/**
 * A validated chat request.
 *
 * @example const body: ChatRequest = parseBody(chatRequestSchema(limits), json);
 */
export type ChatRequest = z.infer<ReturnType<typeof chatRequestSchema>>;

/**
 * Parses with a schema or throws a 400 `ApiError` naming the first bad field.
 *
 * @example const body = parseBody(chatRequestSchema(limits), json);
 */
export function parseBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const param = issue.path.map(String).join('.');
  throw new ApiError(400, param ? `${param}: ${issue.message}` : issue.message, 'invalid_request_error', { param: param || undefined, code: 'invalid_value' });
}

/**
 * The engine's chat messages of a request: text parts joined, `developer` as `system`.
 *
 * @example toMessages({ messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] }); // [{ role: 'user', content: 'Hi' }]
 */
export function toMessages(b: { messages: z.infer<typeof messageSchema>[] }): ChatMessage[] {
  return b.messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
  }));
}

/**
 * The steering entries of a request (empty when unsteered).
 *
 * @example steeringEntries(parseBody(schema, { messages, persona: 'formal', alpha: 2 })); // [{ persona: 'formal', alpha: 2, … }]
 */
export function steeringEntries(b: ChatRequest): SteerEntry[] {
  if (b.steering) return b.steering;
  if (b.persona !== undefined) return [{ persona: b.persona, alpha: b.alpha!, layer: b.layer, positions: b.positions, units: b.units }];
  return [];
}
