import { promises as fs } from 'node:fs';
import path from 'node:path';
import { decode } from './decodeTiming.js';
import { writeRandomCheckpoint } from './randomCheckpoint.js';
import type { LanguageModel } from '../engine/LanguageModel.js';
import { InvalidArgumentError } from '../errors.js';
import { DEFAULT_MODEL_DIR } from '../model/defaultModel.js';
import { PersonaVector } from '../steering/PersonaVector.js';
import { seededRandom } from '../util/random.js';
import { readJsonFile } from '../util/readJsonFile.js';
import { evaluatePersonas } from '../eval/evaluate/evaluatePersonas.js';
import { defaultQuestionSet } from '../eval/evaluate/questionSets.js';

/**
 * Options of {@link measureEvaluationSpeed}.
 *
 * @example await measureEvaluationSpeed(model, { batchSize: 32, engineScores: { perplexity: false } });
 */
export interface EvaluationSpeedOptions {
  /** The persona steered (default: a seeded random direction of the model's shape, at its middle layer). */
  persona?: PersonaVector;
  /** Default: five alphas, −8, −4, 0, 4, 8. */
  alphas?: number[];
  /** Default: the model's own 32 held-out questions. */
  questions?: string[];
  samples?: number;
  maxNewTokens?: number;
  batchSize?: number;
  /** Also time batched decode the way `persona bench` does (batch 8 after 128 cached tokens), in the same process, before and after (default true). */
  reference?: boolean;
  /** Engine-side scores of the evaluation (default both on, as `persona evaluate`). */
  engineScores?: { projection?: boolean; perplexity?: boolean };
}

/**
 * The speed of one evaluation, and of plain batched decode measured beside it.
 *
 * @example const { tokensPerSecond, benchDecodeTokensPerSecond }: EvaluationSpeed = await measureEvaluationSpeed(model);
 */
export interface EvaluationSpeed {
  model: string;
  precision: string;
  rows: number;
  batchSize: number;
  maxNewTokens: number;
  generatedTokens: number;
  generationSeconds: number;
  /** The whole evaluation: generation, then scoring (projection, perplexity, distinct-n). */
  seconds: number;
  generationTokensPerSecond: number;
  tokensPerSecond: number;
  /** Batched decode as `persona bench` measures it (`decode_tok_s.ctx128_b8`): the better of a run before and one after the evaluation. */
  benchDecodeTokensPerSecond?: number;
  /** The two runs of the batched decode, before and after. */
  benchDecodeRuns?: [number, number];
  /** generationTokensPerSecond / benchDecodeTokensPerSecond. */
  generationRatioToBenchDecode?: number;
  /** tokensPerSecond (the whole evaluation) / benchDecodeTokensPerSecond. */
  ratioToBenchDecode?: number;
}

/**
 * Measures an evaluation of 5 alphas × 32 questions × 1 sample (by default) on a loaded model and
 * reports generated tokens per second — of the generation alone and of the whole evaluation with
 * scoring — beside the batched decode throughput `persona bench` reports (batch 8 after 128 cached
 * tokens, median step time), measured in the same process so the two compare. Not a test: call it
 * on the shape you care about, e.g. `randomModelFolder` in Qwen3-0.6B's shape.
 *
 * @example
 * const model = await loadModel(await randomModelFolder('data/configs/qwen3-0.6b.json', path.join(os.tmpdir(), 'qwen3-0.6b-random')), { precision: 'q4' });
 * const speed = await measureEvaluationSpeed(model); // { tokensPerSecond, generationTokensPerSecond, benchDecodeTokensPerSecond, ratioToBenchDecode, … }
 */
export async function measureEvaluationSpeed(model: LanguageModel, o: EvaluationSpeedOptions = {}): Promise<EvaluationSpeed> {
  const persona = o.persona ?? randomPersona(model);
  const questions = o.questions ?? defaultQuestionSet(model.dir, 32).evaluation;
  const alphas = o.alphas ?? [-8, -4, 0, 4, 8];
  const batchSize = o.batchSize ?? 64;
  const maxNewTokens = o.maxNewTokens ?? 48;
  const before = (o.reference ?? true) ? await batchedDecodeThroughput(model) : NaN;
  const r = await evaluatePersonas(model, {
    personas: [persona],
    questions,
    alphas,
    samples: o.samples ?? 1,
    maxNewTokens,
    batchSize,
    engineScores: o.engineScores,
  });
  const out: EvaluationSpeed = {
    model: model.id,
    precision: model.precision,
    rows: r.answers.length,
    batchSize,
    maxNewTokens,
    generatedTokens: r.timing.generatedTokens,
    generationSeconds: r.timing.generationSeconds,
    seconds: r.timing.seconds,
    generationTokensPerSecond: r.timing.generationTokensPerSecond,
    tokensPerSecond: r.timing.tokensPerSecond,
  };
  if (o.reference ?? true) {
    const after = await batchedDecodeThroughput(model);
    out.benchDecodeRuns = [before, after];
    out.benchDecodeTokensPerSecond = Math.max(before, after);
    out.generationRatioToBenchDecode = out.generationTokensPerSecond / out.benchDecodeTokensPerSecond;
    out.ratioToBenchDecode = out.tokensPerSecond / out.benchDecodeTokensPerSecond;
  }
  return out;
}

/**
 * Batched decode throughput by `persona bench`'s own measurement (`decode_tok_s.ctx128_b8`): a cache
 * of `context` random tokens per row, then `steps` single-token steps of the whole batch; tokens/s =
 * batch / median step time. Steering is off.
 *
 * @example const tokS = await batchedDecodeThroughput(model); // ≈ persona bench's ctx128_b8
 */
export async function batchedDecodeThroughput(model: LanguageModel, o: { batch?: number; context?: number; steps?: number } = {}): Promise<number> {
  const B = o.batch ?? 8;
  return B / (await decode(model.session, o.context ?? 128, B, o.steps ?? 16));
}

/**
 * A seeded random persona of a model's shape (unit-norm directions × 4 per layer, recommended layer in
 * the middle), for speed measurements where what is steered does not matter.
 *
 * @example const p = randomPersona(model); p.numLayers === model.numLayers
 */
export function randomPersona(model: LanguageModel, seed = 1): PersonaVector {
  const rand = seededRandom(seed);
  const L = model.numLayers,
    H = model.hiddenSize;
  const vectors = Array.from({ length: L }, () => {
    const v = Float32Array.from({ length: H }, () => rand() - 0.5);
    const n = Math.hypot(...v);
    return v.map((x) => (4 * x) / n);
  });
  return new PersonaVector(vectors, {
    name: 'random',
    model: { id: model.id, modelType: model.config.modelType, hiddenSize: H, numLayers: L },
    method: 'mean-diff',
    read: 'response-mean',
    recommendedLayer: Math.floor(L / 2),
    alphaRange: [-8, 8],
    layers: vectors.map((_, l) => ({ layer: l, norm: 4, residNorm: 1, separation: 0 })),
    createdAt: new Date(0).toISOString(),
    toolVersion: 'speed',
  });
}

/**
 * A model folder with random weights in a config's exact shape (as `persona bench` writes) and a chat
 * tokenizer copied from another folder (default: the embedded stylist's), so `loadModel` can run
 * whole evaluations on, e.g., Qwen3-0.6B's shape without downloading it.
 *
 * @example const dir = await randomModelFolder('data/configs/qwen3-0.6b.json', path.join(os.tmpdir(), 'qwen3-0.6b-random'));
 */
export async function randomModelFolder(configFile: string, dir: string, tokenizerFrom: string = DEFAULT_MODEL_DIR): Promise<string> {
  const raw = (await readJsonFile(configFile, { errorClass: InvalidArgumentError })) as Record<string, unknown>;
  if (typeof raw.vocab_size === 'number' && raw.vocab_size < 8)
    throw new InvalidArgumentError(`${configFile}: vocab_size ${raw.vocab_size} is too small for a chat tokenizer.`);
  await writeRandomCheckpoint(dir, raw);
  await copyChatTokenizer(dir, tokenizerFrom);
  return dir;
}

/**
 * Copies a chat tokenizer (`tokenizer.json`, `tokenizer_config.json`; default the embedded
 * stylist's) into a model folder, so a folder of random weights can apply a chat template.
 *
 * @example await copyChatTokenizer(benchDir);
 */
export async function copyChatTokenizer(dir: string, from: string = DEFAULT_MODEL_DIR): Promise<void> {
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await fs.copyFile(path.join(from, f), path.join(dir, f));
}
