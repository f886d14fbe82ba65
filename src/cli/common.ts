import { InvalidArgumentError as CommanderArgError, Option } from 'commander';
import { loadModel, type LanguageModel } from '../engine/LanguageModel.js';
import { parsePrecision, type Precision } from '../engine/convert/Precision.js';
import { DEFAULT_MODEL_DIR } from '../model/defaultModel.js';
import { parseLayerList } from '../steering/parseLayerList.js';
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

export interface ModelFlags {
  model: string;
  precision: string;
  device: 'cpu' | 'cuda' | 'coreml';
  threads?: number;
  revision?: string;
}

/** The flags every model-using command shares. */
export function modelOptions(): Option[] {
  return [
    new Option('-m, --model <model>', 'model folder or Hugging Face id (default: the embedded stylist)').default(DEFAULT_MODEL_DIR, 'embedded stylist'),
    new Option('--precision <p>', 'weights: f32, q8 or q4').default('f32'),
    new Option('--device <d>', 'execution provider').choices(['cpu', 'cuda', 'coreml']).default('cpu'),
    new Option('--threads <n>', 'CPU threads').argParser(intArg('--threads')),
    new Option('--revision <rev>', 'hub revision (branch, tag or commit)'),
  ];
}

export async function openModel(f: ModelFlags): Promise<LanguageModel> {
  const precision: Precision = parsePrecision(f.precision);
  return loadModel(f.model, { precision, device: f.device, threads: f.threads, revision: f.revision, onProgress: progressBar(process.stderr) });
}
