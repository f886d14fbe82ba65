import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ModelFileError } from '../../errors.js';
import { SafetensorsFile, readTensorFloat32, type TensorInfo } from './SafetensorsFile.js';

/**
 * All tensors of a checkpoint: a single `model.safetensors`, or shards listed in
 * `model.safetensors.index.json` (its `weight_map` names the shard of every tensor).
 *
 * @example
 * const w = await ModelWeights.open('/models/qwen3');
 * w.has('lm_head.weight'); await w.readFloat32('model.norm.weight');
 */
export class ModelWeights {
  private constructor(readonly dir: string, readonly tensors: Map<string, TensorInfo>, readonly files: string[]) {}

  static async open(dir: string): Promise<ModelWeights> {
    const single = path.join(dir, 'model.safetensors');
    const index = path.join(dir, 'model.safetensors.index.json');
    if (await exists(index)) {
      let weightMap: Record<string, string>;
      try {
        weightMap = JSON.parse(await fs.readFile(index, 'utf8')).weight_map;
      } catch (err) {
        throw new ModelFileError(`${index} is not valid JSON: ${(err as Error).message}`, { cause: err });
      }
      if (!weightMap || typeof weightMap !== 'object') throw new ModelFileError(`${index} has no weight_map.`);
      const shardNames = [...new Set(Object.values(weightMap))].sort();
      const tensors = new Map<string, TensorInfo>();
      const files: string[] = [];
      for (const shard of shardNames) {
        const file = path.join(dir, shard);
        if (!(await exists(file))) {
          throw new ModelFileError(`Shard ${shard} listed in model.safetensors.index.json is missing from ${dir}. Download it again (or the whole model).`);
        }
        const st = await SafetensorsFile.open(file);
        files.push(file);
        for (const [name, info] of st.tensors) tensors.set(name, info);
      }
      for (const name of Object.keys(weightMap)) {
        if (!tensors.has(name)) throw new ModelFileError(`Tensor ${name} is listed in the index under ${weightMap[name]} but that shard does not contain it.`);
      }
      return new ModelWeights(dir, tensors, files);
    }
    if (await exists(single)) {
      const st = await SafetensorsFile.open(single);
      return new ModelWeights(dir, st.tensors, [single]);
    }
    throw new ModelFileError(`No weights in ${dir}: expected model.safetensors or model.safetensors.index.json with its shards.`);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new ModelFileError(`The checkpoint in ${this.dir} has no tensor ${name}; it does not match its config.json.`);
    return t;
  }

  async readFloat32(name: string): Promise<Float32Array> {
    return readTensorFloat32(this.info(name));
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
