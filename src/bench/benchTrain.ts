import path from 'node:path';
import type { Precision } from '../engine/convert/Precision.js';
import { loadModel } from '../engine/LanguageModel.js';
import { analyzeLayers } from '../eval/layers/analyzeLayers.js';
import { recordSteering } from '../eval/layers/recommendSteering.js';
import { buildTraitScoring } from '../eval/evaluate/traitScoring.js';
import type { ProgressCallback } from '../util/progress.js';
import { DEFAULT_MODEL_DIR } from '../model/defaultModel.js';
import { trainPersona } from '../persona/trainPersona.js';
import { copyChatTokenizer } from './measureEvaluationSpeed.js';

/** Seconds of one timed run, and its phases as the run's own progress events named them. */
export interface PhaseTimes {
  total_s: number;
  /**
   * Seconds and share of the total per progress phase (answers, activations, steering check …), in
   * the order they ran, with the work the phase reported (its progress total and unit: answer-token
   * budget, sequences read): work does not move with the machine's load, times do.
   */
  phases: { phase: string; seconds: number; share: number; work?: number; unit?: string }[];
}

/** `persona bench --train`: one whole `train`, its layer choice included, with the time of each phase. */
export interface TrainBench extends PhaseTimes {
  positive_prompts: number;
  negative_prompts: number;
  max_new_tokens: number;
  recommended_layer: number;
  /** The steering check's verdict (random weights: usually that it does not steer). */
  verdict?: string;
  /** With `--analyze-layers`: `analyze-layers` on the persona this train made (its prompts as the contrastive pairs). */
  analyze_layers?: AnalyzeLayersBench;
}

/** One `analyze-layers` run (separation at every layer, the screen and the whole grid of the kept layers), with its phases. */
export interface AnalyzeLayersBench extends PhaseTimes {
  layers: number;
  /** Layers the steering screen measured (coarse to fine past 8) and those given the whole alpha grid. */
  screened_layers: number;
  grid_layers: number;
  generated_tokens: number;
  verdict: string;
}

const TOPICS = [
  'the weather',
  'a river',
  'breakfast',
  'a library',
  'the night sky',
  'a train station',
  'gardening',
  'an old bridge',
  'the sea',
  'a market',
  'winter',
  'a mountain road',
  'music',
  'a small town',
  'rain',
  'a museum',
  'coffee',
  'the harbour',
  'autumn',
  'a bicycle',
];

/**
 * Times the library's `trainPersona` as it is, with the layer check (`recordSteering`, markers
 * scorer of the embedded stylist), on a bench folder of random weights (the stylist's chat
 * tokenizer copied in): `pairs` positive and `pairs` negative prompts, `maxNewTokens`-token answers.
 * With `analyzeLayers`, then times `analyzeLayers` on the persona it made, as `persona analyze-layers
 * --persona` runs it (defaults, the same scorer), with train's prompts as the contrastive pairs.
 *
 * @example const t = await benchTrain(dir, 'q4', 2); t.phases.map((p) => `${p.phase} ${(p.share * 100).toFixed(0)}%`);
 */
export async function benchTrain(
  dir: string,
  precision: Precision,
  threads: number,
  o: { pairs?: number; maxNewTokens?: number; analyzeLayers?: boolean } = {},
): Promise<TrainBench> {
  const pairs = o.pairs ?? 20;
  const maxNewTokens = o.maxNewTokens ?? 64;
  await copyChatTokenizer(dir);
  const model = await loadModel(dir, { precision, threads });
  try {
    const ask = (i: number) => `Describe ${TOPICS[i % TOPICS.length]} in two sentences.`;
    const positivePrompts = Array.from({ length: pairs }, (_, i) => ({ system: 'Answer in a formal, precise register.', user: ask(i) }));
    const negativePrompts = Array.from({ length: pairs }, (_, i) => ({ system: 'Answer casually, like texting a friend.', user: ask(i) }));
    const scorer = { kind: 'markers' as const, file: path.join(DEFAULT_MODEL_DIR, 'style_markers.json') };
    const train = await timePhases((onProgress) =>
      trainPersona({
        model,
        positivePrompts,
        negativePrompts,
        name: 'formal',
        maxNewTokens,
        recommend: recordSteering({ scorer, seed: 0 }),
        onProgress,
      }),
    );
    const persona = train.result;
    const bench: TrainBench = {
      positive_prompts: pairs,
      negative_prompts: pairs,
      max_new_tokens: maxNewTokens,
      total_s: train.total_s,
      phases: train.phases,
      recommended_layer: persona.meta.recommendedLayer,
      verdict: persona.meta.steering?.verdict,
    };
    if (o.analyzeLayers) {
      const traitScoring = await buildTraitScoring(scorer, [persona]);
      const run = await timePhases((onProgress) =>
        analyzeLayers(model, persona, { contrast: { positive: positivePrompts, negative: negativePrompts }, traitScoring, onProgress }),
      );
      const a = run.result;
      bench.analyze_layers = {
        total_s: run.total_s,
        phases: run.phases,
        layers: a.layers.length,
        screened_layers: a.layers.filter((l) => l.screened !== false).length,
        grid_layers: a.layers.filter((l) => l.measured).length,
        generated_tokens: a.timing.generatedTokens,
        verdict: a.recommendation.verdict,
      };
    }
    return bench;
  } finally {
    await model.dispose();
  }
}

/**
 * Runs `run` with a progress callback and splits its time into the phases its progress events name:
 * a phase runs from its first event to the next phase's first event.
 */
async function timePhases<T>(run: (onProgress: ProgressCallback) => Promise<T>): Promise<PhaseTimes & { result: T }> {
  const starts: { phase: string; t: number }[] = [];
  const work = new Map<string, { total: number; unit?: string }>();
  const t0 = performance.now();
  const result = await run((p) => {
    work.set(p.phase, { total: p.total, unit: p.unit });
    if (starts.at(-1)?.phase !== p.phase && !starts.some((s) => s.phase === p.phase)) starts.push({ phase: p.phase, t: performance.now() });
  });
  const t1 = performance.now();
  const total = (t1 - t0) / 1000;
  const bounds = [{ phase: 'before the first progress event', t: t0 }, ...starts];
  const phases = bounds
    .map((s, i) => ({ phase: s.phase, seconds: ((bounds[i + 1]?.t ?? t1) - s.t) / 1000 }))
    .filter((p) => p.seconds > 0 || p.phase !== 'before the first progress event')
    .map((p) => ({ ...p, share: p.seconds / total, ...(work.has(p.phase) ? { work: work.get(p.phase)!.total, unit: work.get(p.phase)!.unit } : {}) }));
  return { result, total_s: total, phases };
}
