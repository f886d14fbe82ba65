import { promises as fs } from 'node:fs';
import path from 'node:path';
import { HubError, ModelFileError } from '../errors.js';
import type { ProgressCallback } from '../util/progress.js';

export interface ModelSource {
  dir: string;
  id: string;
  revision?: string;
  commit?: string;
  source: 'local' | 'hub';
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+(@[\w./-]+)?$/;

/**
 * Resolves a model spec: a local folder with config.json, or a Hugging Face hub id.
 *
 * @example await resolveModelSource('models/stylist')
 */
export async function resolveModelSource(spec: string, opts: { revision?: string; onProgress?: ProgressCallback } = {}): Promise<ModelSource> {
  try {
    const st = await fs.stat(spec);
    if (!st.isDirectory()) throw new ModelFileError(`${spec} is a file; --model takes a model folder (with config.json, tokenizer.json, model.safetensors) or a hub id like Qwen/Qwen3-0.6B.`);
    try {
      await fs.access(path.join(spec, 'config.json'));
    } catch {
      throw new ModelFileError(`${spec} has no config.json; it is not a Hugging Face model folder.`);
    }
    return { dir: path.resolve(spec), id: path.basename(path.resolve(spec)), source: 'local' };
  } catch (err) {
    if (err instanceof ModelFileError) throw err;
  }
  if (!HUB_ID.test(spec)) throw new ModelFileError(`Model "${spec}" is neither an existing folder nor a hub id like Qwen/Qwen3-0.6B.`);
  void opts;
  throw new HubError(`Downloading ${spec} from the hub is not available in this build.`);
}
