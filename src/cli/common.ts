import { InvalidArgumentError as CommanderArgError, Option } from 'commander';
import { parsePrecision } from '../engine/convert/Precision.js';
import { DEFAULTS } from '../engine/defaults.js';
import { loadModel, type LanguageModel } from '../engine/LanguageModel.js';
import { KV_CACHE_KINDS, type KVCacheKind } from '../engine/KVCache.js';
import { DEVICES, type Device, type ModelSpec } from '../engine/ModelSpec.js';
import { DEFAULT_MODEL_DIR } from '../model/defaultModel.js';
import { parseLayerList } from '../steering/parseLayerList.js';
import { RECOMMENDER_DEFAULTS } from '../eval/layers/recommendSteering.js';
import { checkOutputTarget } from '../util/checkOutputTarget.js';
import { progressBar } from '../util/progress.js';

/** Parses a finite number option, with a message naming the flag. */
export function numberArg(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new CommanderArgError(`${flag} must be a number; got "${v}".`);
    return n;
  };
}

export function intArg(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new CommanderArgError(`${flag} must be an integer; got "${v}".`);
    return n;
  };
}

/** Parses a layer list flag (`2-5`, `2,3,5`, `-1`), with a message naming the flag. */
export function layersArg(flag: string) {
  return (v: string): number[] => {
    const layers = parseLayerList(v);
    if (!layers) throw new CommanderArgError(`${flag} takes layers like 2, 2-5 or 2,3,5; got "${v}".`);
    return layers;
  };
}

export function listArg(flag: string) {
  return (v: string): number[] => v.split(',').map((x) => numberArg(flag)(x.trim()));
}

/**
 * `--screen-layers <n>` of the commands that run the steering check (train, create, analyze-layers):
 * the most layers screened in one pass; 0 = every layer. Parsed to `maxScreenLayers`.
 */
export function screenLayersOption(): Option {
  return new Option(
    '--screen-layers <n>',
    `most layers the steering check screens in one pass; a model with more is screened coarse to fine (n evenly spaced layers, then those between the best one's neighbours); 0 = every layer`,
  )
    .argParser((v: string) => {
      const n = intArg('--screen-layers')(v);
      if (n === 0) return Infinity;
      if (n < 2) throw new CommanderArgError(`--screen-layers must be 0 (every layer) or at least 2; got "${v}".`);
      return n;
    })
    .default(RECOMMENDER_DEFAULTS.maxScreenLayers);
}

/** The parsed values of the model flags (`modelOptions`). */
export interface ModelFlags {
  model: string;
  precision: string;
  device: Device;
  threads?: number;
  revision?: string;
  kvCache?: string;
}

/** The flags every model-using command shares. */
export function modelOptions(): Option[] {
  return [
    new Option('-m, --model <model>', 'model folder or Hugging Face id (default: the embedded stylist)').default(DEFAULT_MODEL_DIR, 'embedded stylist'),
    new Option('--precision <p>', 'weights: f32, q8 or q4').default(DEFAULTS.model.precision),
    new Option('--device <d>', 'execution provider').choices(DEVICES as string[]).default(DEFAULTS.model.device),
    new Option('--threads <n>', 'CPU threads').argParser(intArg('--threads')),
    new Option('--revision <rev>', 'hub revision (branch, tag or commit)'),
    new Option('--kv-cache <kind>', 'KV cache: f32 (exact) or int8 (a quarter of the bytes; faster at long contexts, logits within ~1%)').choices(
      KV_CACHE_KINDS as string[],
    ),
  ];
}

/**
 * The model spec the flags describe, built once and handed unchanged to `loadModel`,
 * `EngineWorker.start` or `startServer`.
 *
 * @example modelSpecFromFlags({ model: 'Qwen/Qwen3-0.6B', precision: 'q4', device: 'cpu', revision: 'main' });
 */
export function modelSpecFromFlags(f: ModelFlags): ModelSpec {
  const spec: ModelSpec = { model: f.model, precision: parsePrecision(f.precision), device: f.device };
  if (f.threads !== undefined) spec.threads = f.threads;
  if (f.revision !== undefined) spec.revision = f.revision;
  if (f.kvCache !== undefined) spec.kvCache = f.kvCache as KVCacheKind;
  return spec;
}

/** Loads the model the flags name, with a progress bar on stderr. */
export async function openModel(f: ModelFlags): Promise<LanguageModel> {
  return loadModel(modelSpecFromFlags(f), { onProgress: progressBar(process.stderr) });
}

/**
 * Opens the model the flags name, runs `work` with it and a signal that Ctrl-C aborts, then lets go
 * of the SIGINT handler and disposes of the model, whatever happened. Outputs that cannot be written
 * (a folder, FIFO, read-only or full disk) are found before the model is loaded.
 *
 * @example await withModel(o, async (model, signal) => trainPersona({ model, signal, ... }));
 */
export async function withModel<T>(
  o: ModelFlags & { out?: string; html?: string },
  work: (model: LanguageModel, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  for (const out of [o.out, o.html]) if (out) await checkOutputTarget(out);
  const model = await openModel(o);
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  try {
    return await work(model, ac.signal);
  } finally {
    process.removeListener('SIGINT', onSig);
    await model.dispose();
  }
}
