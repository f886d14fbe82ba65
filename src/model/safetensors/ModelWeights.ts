import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ModelFileError } from '../../errors.js';
import { readJsonFile } from '../../util/readJsonFile.js';
import { expectedTensorShapes } from '../architectures/expectedTensorShapes.js';
import { describeValue } from '../config/describeValue.js';
import type { ModelConfig } from '../config/ModelConfig.js';
import { SafetensorsFile, readTensorFloat32, type TensorInfo } from './SafetensorsFile.js';

/**
 * All tensors of a checkpoint: a single `model.safetensors`, or shards listed in
 * `model.safetensors.index.json` (its `weight_map` names the shard of every tensor; a shard must be
 * a file in the same folder).
 *
 * @example
 * const w = await ModelWeights.open('/models/qwen3');
 * w.checkShapes(config); w.has('lm_head.weight'); await w.readFloat32('model.norm.weight');
 */
export class ModelWeights {
  private constructor(
    readonly dir: string,
    readonly tensors: Map<string, TensorInfo>,
    readonly files: string[],
  ) {}

  static async open(dir: string): Promise<ModelWeights> {
    const single = path.join(dir, 'model.safetensors');
    const index = path.join(dir, 'model.safetensors.index.json');
    if (await exists(index)) {
      const weightMap = ((await readJsonFile(index, { errorClass: ModelFileError })) as { weight_map?: unknown } | null)?.weight_map;
      if (!weightMap || typeof weightMap !== 'object' || Array.isArray(weightMap)) throw new ModelFileError(`${index} has no weight_map.`);
      const map = weightMap as Record<string, unknown>;
      for (const [name, shard] of Object.entries(map)) checkShardName(index, name, shard);
      const shardNames = [...new Set(Object.values(map) as string[])].sort();
      const tensors = new Map<string, TensorInfo>();
      const files: string[] = [];
      for (const shard of shardNames) {
        const file = path.join(dir, shard);
        if (!(await exists(file))) {
          throw new ModelFileError(`Shard ${shard} listed in model.safetensors.index.json is missing from ${dir}. Download it again (or the whole model).`);
        }
        const st = await SafetensorsFile.open(file);
        files.push(file);
        for (const [name, info] of st.tensors) {
          const other = tensors.get(name);
          if (other) throw new ModelFileError(`Tensor ${name} is in both ${path.basename(other.file)} and ${shard} in ${dir}; the checkpoint is corrupt.`);
          tensors.set(name, info);
        }
      }
      for (const [name, shard] of Object.entries(map)) {
        const info = tensors.get(name);
        if (!info) throw new ModelFileError(`Tensor ${name} is listed in the index under ${shard} but that shard does not contain it.`);
        if (path.basename(info.file) !== shard)
          throw new ModelFileError(`Tensor ${name} is listed in the index under ${shard} but it is in ${path.basename(info.file)}.`);
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

  /**
   * Compares every tensor the architecture reads with the header: a missing required tensor or a
   * shape that disagrees with config.json is a `ModelFileError` naming both, raised before any
   * tensor data is read or allocated.
   */
  checkShapes(config: ModelConfig): void {
    for (const [name, want] of expectedTensorShapes(config)) {
      const t = this.tensors.get(name);
      if (!t) {
        if (want.required)
          throw new ModelFileError(
            `The checkpoint in ${this.dir} has no tensor ${name}, which its config.json (${config.modelType}, ${config.numHiddenLayers} layers) needs.`,
          );
        continue;
      }
      if (t.shape.length !== want.shape.length || t.shape.some((d, i) => d !== want.shape[i])) {
        throw new ModelFileError(
          `${path.basename(t.file)}: tensor ${name} has shape [${t.shape.join(', ')}] but config.json implies [${want.shape.join(', ')}]; the weights and config.json do not belong together.`,
        );
      }
    }
  }

  async readFloat32(name: string): Promise<Float32Array> {
    return readTensorFloat32(this.info(name));
  }
}

/** A shard must be a plain file name in the model folder: no directories, no `..`, nothing absolute. */
function checkShardName(index: string, tensor: string, shard: unknown): asserts shard is string {
  if (typeof shard !== 'string' || shard.length === 0) {
    throw new ModelFileError(`${index}: weight_map gives tensor ${tensor} the shard ${describeValue(shard)}; a file name was expected.`);
  }
  if (shard !== path.basename(shard) || shard.includes('\\') || shard === '.' || shard === '..' || shard.includes('\0')) {
    throw new ModelFileError(
      `${index}: shard "${shard}" (for tensor ${tensor}) is not a file in the model folder; shard names may not contain directories or "..".`,
    );
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
