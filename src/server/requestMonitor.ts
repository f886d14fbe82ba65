import type { EngineWorker } from '../engine/worker/EngineWorker.js';
import { MONITOR_UNIT } from '../eval/monitor/monitorProjections.js';
import { dot } from '../persona/aggregators.js';
import { projectionDirection } from '../steering/project.js';
import { answerTokens } from '../persona/computePersonaVector.js';
import { ApiError } from './ApiError.js';
import type { GenerationQueue } from './GenerationQueue.js';
import type { PersonaStore } from './PersonaStore.js';

/** The personas a chat request monitors, each at its recommended layer, and their prompt-end readings. */
export interface RequestMonitor {
  targets: { persona: string; layer: number; dir: Float32Array }[];
  promptEnd: number[];
}

/**
 * The opt-in per-request monitor of `POST /v1/chat/completions` (`monitor: ["formal", …]`): before
 * generation, the residual stream at the last prompt token after each persona's recommended block,
 * projected on its direction — `persona monitor`'s `promptLast`, in the same unit
 * (`MONITOR_UNIT`). Read unsteered, between generation batches.
 *
 * @example const m = await startRequestMonitor({ engine, personas, queue }, ['formal'], promptIds); m.promptEnd[0];
 */
export async function startRequestMonitor(
  ctx: { engine: Partial<Pick<EngineWorker, 'activations'>>; personas: PersonaStore; queue: GenerationQueue },
  names: string[],
  promptIds: number[],
  signal?: AbortSignal,
): Promise<RequestMonitor> {
  const activations = ctx.engine.activations?.bind(ctx.engine);
  if (!activations) throw new ApiError(400, 'This server cannot read activations; monitor is not available.', 'invalid_request_error', { param: 'monitor' });
  if (new Set(names).size !== names.length) throw new ApiError(400, 'monitor: each persona may appear once.', 'invalid_request_error', { param: 'monitor' });
  const targets = [];
  for (const name of names) {
    const p = await ctx.personas.forSteering(name);
    const layer = p.meta.recommendedLayer;
    targets.push({ persona: name, layer, dir: projectionDirection(p, layer) });
  }
  // The last prompt token read as a one-token "answer" after the rest of the prompt: its pooled
  // residual is the residual at the prompt's end.
  const { responseMean } = await ctx.queue.runExclusive(1, () => activations([{ promptIds: promptIds.slice(0, -1), answerIds: promptIds.slice(-1) }]), { signal });
  return { targets, promptEnd: targets.map((t) => dot(responseMean[0][t.layer], t.dir)) };
}

/**
 * Each choice's mean projection over its answer tokens (the closing end-of-turn token left out), per
 * monitored persona, read unsteered after the answers are generated.
 *
 * @example const means = await responseMeans({ engine, queue }, m, promptIds, [tokens], stopIds); // [choice][persona]
 */
export async function responseMeans(
  ctx: { engine: Partial<Pick<EngineWorker, 'activations'>>; queue: GenerationQueue },
  m: RequestMonitor,
  promptIds: number[],
  answers: number[][],
  stopIds: number[],
): Promise<(number | null)[][]> {
  const seqs = answers.map((a) => ({ promptIds, answerIds: a.length ? answerTokens(a, stopIds) : [] }));
  const { responseMean } = await ctx.queue.runExclusive(seqs.length, () => ctx.engine.activations!(seqs));
  return seqs.map((s, i) => m.targets.map((t) => (answers[i].length ? dot(responseMean[i][t.layer], t.dir) : null)));
}

/**
 * The `persona_monitor` field of a reply: `{ unit, personas: [{ persona, layer, prompt_end, response_mean? }] }`,
 * `response_mean` holding one value per choice.
 *
 * @example res.persona_monitor.personas[0].prompt_end;
 */
export function monitorField(m: RequestMonitor, means?: (number | null)[][]): unknown {
  return {
    unit: MONITOR_UNIT,
    personas: m.targets.map((t, k) => ({ persona: t.persona, layer: t.layer, prompt_end: m.promptEnd[k], ...(means ? { response_mean: means.map((row) => row[k]) } : {}) })),
  };
}
