import { z } from 'zod';
import type { ModelInfo } from '../engine/worker/EngineWorker.js';
import { MONITOR_UNIT } from '../eval/monitor/monitorProjections.js';
import { projectionDirection } from '../steering/project.js';
import { normalizeLayer } from '../steering/PersonaVector.js';
import { ApiError } from './ApiError.js';
import type { PersonaStore } from './PersonaStore.js';
import { personaNameSchema } from './personaName.js';

/** Most personas one request may monitor. */
export const MAX_MONITORED = 8;

/**
 * The `monitor` field of a chat request: persona names (each read at its recommended layer) or
 * `{ persona, layer }` entries, at most `MAX_MONITORED`.
 *
 * @example monitorSchema.parse(['formal', { persona: 'vivid', layer: 1 }]);
 */
export const monitorSchema = z
  .array(
    z.union([personaNameSchema, z.strictObject({ persona: personaNameSchema, layer: z.number().int() })], {
      error: 'each entry is a persona name or {persona, layer}',
    }),
    {
      error: 'a list of persona names, e.g. ["formal", "vivid"]',
    },
  )
  .min(1, { error: 'name at least one persona (leave monitor out to monitor none)' })
  .max(MAX_MONITORED, { error: `at most ${MAX_MONITORED} personas per request` });

/**
 * One `monitor` entry as given.
 *
 * @example const e: MonitorEntry = { persona: 'formal', layer: 3 };
 */
export type MonitorEntry = z.infer<typeof monitorSchema>[number];

/**
 * A monitored persona: its name, the block read, and the direction d with h·d = `project(h, persona, layer)`.
 *
 * @example const t: MonitorTarget = { persona: 'formal', layer: 3, direction: projectionDirection(formal, 3) };
 */
export interface MonitorTarget {
  persona: string;
  layer: number;
  direction: Float32Array;
}

/**
 * Resolves a request's `monitor` entries against the served personas. Every problem is a 400 naming
 * the entry (`monitor.1: no persona named "x"…`, `monitor.0.layer: …`, a repeated entry).
 *
 * @example const targets = await resolveMonitor({ engine, personas }, ['formal']);
 */
export async function resolveMonitor(
  ctx: { engine: { info: Pick<ModelInfo, 'numLayers'> }; personas: PersonaStore },
  entries: MonitorEntry[],
): Promise<MonitorTarget[]> {
  const targets: MonitorTarget[] = [];
  const bad = (param: string, message: string, code = 'invalid_value') => new ApiError(400, `${param}: ${message}`, 'invalid_request_error', { param, code });
  for (const [i, e] of entries.entries()) {
    const name = typeof e === 'string' ? e : e.persona;
    let persona;
    try {
      persona = await ctx.personas.forSteering(name);
    } catch (err) {
      if (err instanceof ApiError && err.status < 500)
        throw bad(
          `monitor.${i}`,
          err.status === 404 ? `no persona named "${name}" on this server (GET /v1/personas lists them)` : err.message,
          err.code ?? 'invalid_value',
        );
      throw err;
    }
    let layer: number;
    try {
      layer = normalizeLayer(typeof e === 'string' ? persona.meta.recommendedLayer : e.layer, ctx.engine.info.numLayers);
    } catch (err) {
      throw bad(`monitor.${i}.layer`, (err as Error).message);
    }
    if (targets.some((t) => t.persona === name && t.layer === layer))
      throw bad(`monitor.${i}`, `"${name}" at layer ${layer} is already monitored; each persona and layer once`);
    targets.push({ persona: name, layer, direction: projectionDirection(persona, layer) });
  }
  return targets;
}

/**
 * One request's monitor readings as they come from the engine (`WorkerRow.monitor`): the prompt-end
 * values (read after prefill, before the first token is chosen) and each choice's per-token values
 * (token i read in the forward call that chooses token i+1, or in the batch's closing call) — all from
 * the generation's own forward passes, in `MONITOR_UNIT`, steering included.
 *
 * @example const r = new MonitorReadings(targets, 1); r.add(0, -1, [14.2]); r.add(0, 0, [0.3]); r.tokens(0, 1);
 */
export class MonitorReadings {
  /** Per persona, at the last prompt token; null until it is read. */
  promptEnd: number[] | null = null;
  /** [choice][token] → values per persona. */
  private readonly perToken: number[][][];
  /** How many readings of each choice have been handed out (streamed) so far. */
  private readonly sent: number[];

  constructor(
    readonly targets: MonitorTarget[],
    choices: number,
  ) {
    this.perToken = Array.from({ length: choices }, () => []);
    this.sent = new Array<number>(choices).fill(0);
  }

  /** The engine's directions for one row. */
  get rowMonitor(): { layer: number; direction: Float32Array }[] {
    return this.targets.map((t) => ({ layer: t.layer, direction: t.direction }));
  }

  /** Takes one engine reading (`token` −1: the prompt's end). */
  add(choice: number, token: number, values: number[]): void {
    if (token < 0) this.promptEnd ??= values;
    else this.perToken[choice][token] = values;
  }

  /** Whether the first `n` tokens of a choice have been read. */
  has(choice: number, n: number): boolean {
    const row = this.perToken[choice];
    for (let i = 0; i < n; i++) if (!row[i]) return false;
    return true;
  }

  /** Readings of a choice not yet handed out, in token order, up to its first `limit` tokens: `[{ token, values }]`. */
  take(choice: number, limit = Infinity): { token: number; values: number[] }[] {
    const row = this.perToken[choice];
    const out: { token: number; values: number[] }[] = [];
    while (this.sent[choice] < Math.min(limit, row.length) && row[this.sent[choice]]) {
      out.push({ token: this.sent[choice], values: row[this.sent[choice]] });
      this.sent[choice]++;
    }
    return out;
  }

  /** Per persona, a choice's values over its first `n` answer tokens (those read). */
  tokens(choice: number, n: number): number[][] {
    const row = this.perToken[choice].slice(0, n).filter(Boolean);
    return this.targets.map((_, k) => row.map((v) => v[k]));
  }

  /**
   * The `persona_monitor` field: `{ unit, personas: [{ persona, layer, prompt_end, response_mean?, tokens? }] }`.
   * With `answers` (each choice's answer length in tokens): `response_mean` and `tokens` hold one entry per choice.
   *
   * @example res.persona_monitor.personas[0].tokens[0]; // formal's value at each token of the first choice
   */
  field(answers?: number[]): unknown {
    const per = answers?.map((n, c) => this.tokens(c, n));
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : null);
    return {
      unit: MONITOR_UNIT,
      personas: this.targets.map((t, k) => ({
        persona: t.persona,
        layer: t.layer,
        prompt_end: this.promptEnd?.[k] ?? null,
        ...(per ? { response_mean: per.map((p) => mean(p[k])), tokens: per.map((p) => p[k]) } : {}),
      })),
    };
  }
}
