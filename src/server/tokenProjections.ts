import { z } from 'zod';
import type { ChatMessage } from '../engine/LanguageModel.js';
import type { EngineWorker } from '../engine/worker/EngineWorker.js';
import type { Tokenizer } from '../model/tokenizer/Tokenizer.js';
import { normalizeLayer, type PersonaVector } from '../steering/PersonaVector.js';
import { ApiError } from './ApiError.js';
import { messageSchema, parseBody, toMessages } from './chatRequestSchema.js';
import type { GenerationQueue } from './GenerationQueue.js';
import type { PersonaStore } from './PersonaStore.js';
import { personaNameSchema } from './personaName.js';
import { project } from '../steering/project.js';

/**
 * Most answer tokens one projection request may read. The answer is read in one unsteered pass over
 * prompt + answer (its cost grows with the length once), charged in the generation queue as one row
 * per 256 tokens.
 *
 * @example if (ids.length > MAX_PROJECTION_TOKENS) throw new ApiError(400, 'completion too long');
 */
export const MAX_PROJECTION_TOKENS = 4096;

/**
 * Per-token projection of an answer on a persona direction: for answer token i, the residual stream
 * after block `layer` at that token's position, projected on the persona's unit vector and divided by
 * the persona's gap there (‖positive mean − negative mean‖), so the persona's two styles differ by
 * about 1 — the monitoring readout of the persona-vectors paper (Chen et al. 2025), token by token.
 * One pass over prompt + answer reads every token (`answerTokenResiduals`).
 *
 * @example
 * const values = await tokenProjections(engine, formal, 1, promptIds, answerIds); // one number per answer token
 */
export async function tokenProjections(
  engine: Pick<EngineWorker, 'tokenResiduals'>,
  persona: PersonaVector,
  layer: number,
  promptIds: number[],
  answerIds: number[],
): Promise<number[]> {
  if (answerIds.length === 0) return [];
  const residuals = await engine.tokenResiduals(promptIds, answerIds, [layer]); // [N][1][H]
  return residuals.map(([r]) => project(r, persona, layer));
}

const projectionRequest = z
  .object({
    persona: personaNameSchema,
    layer: z.number().int().optional(),
    messages: z.array(messageSchema).min(1).max(512),
    completion: z
      .string()
      .max(64 * 1024)
      .optional(),
    completion_ids: z.array(z.number().int().min(0)).max(MAX_PROJECTION_TOKENS).optional(),
  })
  .refine((b) => (b.completion === undefined) !== (b.completion_ids === undefined), {
    message: 'give either completion (text) or completion_ids (token ids), not both',
    path: ['completion'],
  });

/**
 * `POST /v1/projections`: `{ persona, layer?, messages, completion | completion_ids }` →
 * `{ object: 'persona.projection', persona, layer, units: 'gap', tokens: [{ id, token, projection }], mean }`.
 * The answer is read after `messages` with the chat template applied; the model reads it unsteered.
 *
 * @example const res = await projectionRoute({ engine, personas, tokenizer }, body);
 */
export async function projectionRoute(
  ctx: {
    engine: Pick<EngineWorker, 'tokenResiduals' | 'info'>;
    personas: PersonaStore;
    tokenizer: Tokenizer;
    encodePrompt: (messages: ChatMessage[]) => number[] | Promise<number[]>;
    queue: Pick<GenerationQueue, 'runExclusive'>;
  },
  json: unknown,
  signal?: AbortSignal,
): Promise<unknown> {
  const b = parseBody(projectionRequest, json);
  const persona = await ctx.personas.forSteering(b.persona);
  let layer: number;
  try {
    layer = normalizeLayer(b.layer ?? persona.meta.recommendedLayer, ctx.engine.info.numLayers);
  } catch (err) {
    throw new ApiError(400, `layer: ${(err as Error).message}`, 'invalid_request_error', { param: 'layer' });
  }
  const vocab = ctx.engine.info.config.vocabSize;
  const ids = b.completion_ids ?? ctx.tokenizer.encode(b.completion!, { parseSpecialTokens: false });
  if (ids.length > MAX_PROJECTION_TOKENS)
    throw new ApiError(400, `completion has ${ids.length} tokens; at most ${MAX_PROJECTION_TOKENS} are read per request.`, 'invalid_request_error', {
      param: 'completion',
    });
  const bad = ids.find((t) => t >= vocab);
  if (bad !== undefined)
    throw new ApiError(400, `completion_ids: ${bad} is not a token id of this model (vocabulary of ${vocab}).`, 'invalid_request_error', {
      param: 'completion_ids',
    });
  const promptIds = await ctx.encodePrompt(toMessages(b));
  const context = ctx.engine.info.config.maxPositionEmbeddings;
  if (promptIds.length + ids.length > context)
    throw new ApiError(
      400,
      `messages plus completion take ${promptIds.length + ids.length} tokens; the model's context is ${context}.`,
      'invalid_request_error',
      { param: 'completion', code: 'context_length_exceeded' },
    );
  // One pass over prompt + answer, run between generation batches: charged as one row per 256 tokens.
  const values = await ctx.queue.runExclusive(
    Math.ceil((promptIds.length + ids.length) / 256),
    () => tokenProjections(ctx.engine, persona, layer, promptIds, ids),
    { signal },
  );
  return {
    object: 'persona.projection',
    persona: b.persona,
    layer,
    units: 'gap',
    tokens: ids.map((id, i) => ({ id, token: ctx.tokenizer.decode([id]), projection: values[i] })),
    mean: values.length ? values.reduce((a, x) => a + x, 0) / values.length : null,
  };
}
