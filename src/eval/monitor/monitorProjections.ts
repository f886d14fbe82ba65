import type { ChatMessage, LanguageModel } from '../../engine/LanguageModel.js';
import { InvalidArgumentError } from '../../errors.js';
import { dot } from '../../util/numerics.js';
import { PROJECTION_UNITS_LABEL, projectionDirection } from '../../steering/project.js';
import { extractActivations } from '../../engine/extractActivations.js';
import { normalizeLayer, type PersonaVector } from '../../steering/PersonaVector.js';
import type { ProgressCallback } from '../../util/progress.js';

/**
 * The one unit every monitor and screen number is in — the toolkit's projection unit (`project`):
 * the residual stream after the persona's block projected on its direction there in gap units, as
 * evaluation, chat and the server show it (Chen et al. 2025, §4 monitor the same projection).
 *
 * @example console.log(`formal: ${row.projections[0].promptLast.toFixed(2)} (${MONITOR_UNIT})`);
 */
export const MONITOR_UNIT = PROJECTION_UNITS_LABEL;

/**
 * A persona to monitor and the block to read it at (default: its recommended layer).
 *
 * @example const t: MonitorTarget = { persona: formal, layer: 3 };
 */
export interface MonitorTarget {
  persona: PersonaVector;
  layer?: number;
}

/** A conversation to monitor: the prompt's messages and, optionally, a response to read after it. */
export interface MonitorInput {
  messages: ChatMessage[];
  response?: string;
}

/** One persona's readings for one input. */
export interface MonitorProjection {
  persona: string;
  layer: number;
  /** At the last prompt token (the assistant turn opened): what the paper monitors *before* the answer. */
  promptLast: number;
  /** Mean over the response's tokens, when a response was given. */
  responseMean?: number;
}

/** The readings of one input, one entry per target in the order given. */
export interface MonitorRow {
  promptTokens: number;
  responseTokens?: number;
  projections: MonitorProjection[];
}

/** The directions of the targets, checked against the model (one persona may be read at several layers). */
export function monitorDirections(model: LanguageModel, targets: MonitorTarget[]): { name: string; layer: number; dir: Float32Array }[] {
  if (targets.length === 0) throw new InvalidArgumentError('Monitoring needs at least one persona.');
  const dirs = targets.map((t) => {
    t.persona.assertFits(model);
    const layer = normalizeLayer(t.layer ?? t.persona.meta.recommendedLayer, model.numLayers);
    if (!(t.persona.norm(layer) > 0)) throw new InvalidArgumentError(`Persona ${t.persona.name} has no vector at layer ${layer}; choose another --layer.`);
    return { name: t.persona.name, layer, dir: projectionDirection(t.persona, layer) };
  });
  const keys = dirs.map((d) => `${d.name}@${d.layer}`);
  if (new Set(keys).size !== keys.length)
    throw new InvalidArgumentError(`Each monitored persona and layer may appear once; got ${keys.join(', ')} (personas need distinct names).`);
  return dirs;
}

/**
 * Monitoring with persona vectors (Chen et al. 2025, §4.2): for each input, the residual stream
 * after each persona's block at the last prompt token — the assistant turn opened by the chat
 * template, so the reading comes before any answer token — and, when a response is given, its mean
 * over the response tokens, each projected on the persona's direction (`MONITOR_UNIT`). One
 * unsteered batched pass (`extractActivations`) reads every persona at once.
 *
 * @example
 * const [row] = await monitorProjections(model, [{ messages: [{ role: 'user', content: 'Thank Sam.' }] }], [{ persona: formal }]);
 * row.projections[0].promptLast; // higher when the prompt pushes towards formal answers
 */
export async function monitorProjections(
  model: LanguageModel,
  inputs: MonitorInput[],
  targets: MonitorTarget[],
  opts: { batchSize?: number; onProgress?: ProgressCallback; signal?: AbortSignal } = {},
): Promise<MonitorRow[]> {
  const dirs = monitorDirections(model, targets);
  const seqs = inputs.map((x) => {
    if (x.messages.length === 0 || x.messages[x.messages.length - 1].role !== 'user')
      throw new InvalidArgumentError('Each monitored prompt must end with a user message.');
    return {
      promptIds: model.tokenizer.encodeChat(x.messages, { addGenerationPrompt: true }),
      answerIds: x.response !== undefined ? model.tokenizer.encode(x.response) : [],
    };
  });
  if (seqs.length === 0) return [];
  const acts = await extractActivations(model, seqs, { batchSize: opts.batchSize, onProgress: opts.onProgress, signal: opts.signal });
  return seqs.map((s, i) => {
    const hasResponse = inputs[i].response !== undefined && s.answerIds.length > 0;
    return {
      promptTokens: s.promptIds.length,
      ...(inputs[i].response !== undefined ? { responseTokens: s.answerIds.length } : {}),
      projections: dirs.map((d) => ({
        persona: d.name,
        layer: d.layer,
        promptLast: dot(acts.promptLast[i][d.layer], d.dir),
        ...(hasResponse ? { responseMean: dot(acts.responseMean[i][d.layer], d.dir) } : {}),
      })),
    };
  });
}
