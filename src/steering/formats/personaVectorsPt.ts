/**
 * persona_vectors' vector layout (Chen et al. 2025, "Persona Vectors"; `generate_vec.py`): one
 * float32 tensor `[L+1, H]` indexed like Hugging Face `hidden_states` — row 0 is the embedding
 * output, row l+1 is the output of decoder block l. Their `.pt` pickles are not read here; this
 * module writes and reads that layout as a safetensors file with one tensor, `persona_vector`,
 * which `safetensors.torch.load_file(f)['persona_vector']` turns back into their tensor.
 *
 * Our index is the 0-based block l, so this is the one place where l ↔ l+1 is converted.
 */
import { ModelFileError, InvalidArgumentError, PersonaFileError } from '../../errors.js';
import { SafetensorsFile, type TensorInfo } from '../../model/safetensors/SafetensorsFile.js';
import { encodeSafetensors } from '../../model/safetensors/writeSafetensors.js';
import { atomicWrite } from '../../util/atomicWrite.js';

/**
 * The tensor name our files use.
 *
 * @example safetensors.torch.load_file(f)[PV_TENSOR_NAME] // in Python: their [L+1, H] tensor
 */
export const PV_TENSOR_NAME = 'persona_vector';
/**
 * `__metadata__.layout` of our files.
 *
 * @example (await SafetensorsFile.open(f)).metadata.layout === PV_LAYOUT;
 */
export const PV_LAYOUT = 'hidden_states';

/**
 * Per-block vectors read back from a `[L+1, H]` file.
 *
 * @example const { vectors, numLayers }: PvVectors = await readPvSafetensors('formal.safetensors');
 */
export interface PvVectors {
  /** vectors[l] = direction after decoder block l, length hiddenSize; `numLayers` of them. */
  vectors: Float32Array[];
  numLayers: number;
  hiddenSize: number;
  /** The file's safetensors `__metadata__`. */
  metadata: Record<string, string>;
}

/**
 * What the model expects of a `[L+1, H]` file read for it.
 *
 * @example const opts: ReadPvOptions = { hiddenSize: 1024, numLayers: 28 };
 */
export interface ReadPvOptions {
  hiddenSize?: number;
  numLayers?: number;
}

const RESERVED_KEYS = ['format', 'layout', 'rows', 'num_layers', 'hidden_size'];

/**
 * Encodes per-block vectors as persona_vectors' `[L+1, H]` layout: one F32 tensor
 * `persona_vector`, row 0 (embedding output, which no block steers) all zeros, row l+1 =
 * vectors[l]. `meta` is stored as safetensors metadata next to the layout keys (`layout`, `rows`,
 * `num_layers`, `hidden_size`, `format`), which it may not override.
 *
 * @example
 * // vectors: Float32Array[28], each [1024], for Qwen3-0.6B's 28 blocks → tensor [29, 1024]
 * const bytes = encodePvSafetensors(vectors, { trait: 'formal', model: 'Qwen/Qwen3-0.6B' });
 */
export function encodePvSafetensors(vectors: Float32Array[], meta: Record<string, string> = {}): Uint8Array {
  const numLayers = vectors.length;
  if (numLayers === 0) throw new InvalidArgumentError('persona_vectors export needs at least one layer vector.');
  const hiddenSize = vectors[0].length;
  if (hiddenSize === 0) throw new InvalidArgumentError('persona_vectors export: layer vectors are empty.');
  for (const key of RESERVED_KEYS) {
    if (key in meta) throw new InvalidArgumentError(`persona_vectors export: metadata key "${key}" is reserved for the layout.`);
  }
  const data = new Float32Array((numLayers + 1) * hiddenSize); // [L+1, H], row 0 stays zero
  vectors.forEach((v, l) => {
    if (v.length !== hiddenSize) throw new InvalidArgumentError(`persona_vectors export: layer ${l} has ${v.length} values, layer 0 has ${hiddenSize}.`);
    if (!v.every(Number.isFinite)) throw new InvalidArgumentError(`persona_vectors export: layer ${l} contains NaN or Infinity.`);
    data.set(v, (l + 1) * hiddenSize);
  });
  return encodeSafetensors(
    { [PV_TENSOR_NAME]: { shape: [numLayers + 1, hiddenSize], data } },
    {
      ...meta,
      format: 'pt',
      layout: PV_LAYOUT,
      rows: 'row 0 = embedding output (zero, never steered); row l+1 = output of decoder block l (0-based)',
      num_layers: String(numLayers),
      hidden_size: String(hiddenSize),
    },
  );
}

/**
 * Writes the `[L+1, H]` layout atomically; see `encodePvSafetensors`.
 *
 * @example await writePvSafetensors('formal_response_avg_diff.safetensors', vectors, { trait: 'formal' });
 */
export async function writePvSafetensors(file: string, vectors: Float32Array[], meta: Record<string, string> = {}): Promise<void> {
  await atomicWrite(file, encodePvSafetensors(vectors, meta));
}

/**
 * Reads a `[L+1, H]` safetensors file back into per-block vectors (vectors[l] = row l+1). The
 * tensor is `persona_vector`, or the file's only 2-D tensor (a persona_vectors `.pt` converted with
 * `safetensors.torch.save_file`). Row 0 is dropped: their files carry the embedding-output
 * difference there, which no decoder block steers. F16/BF16 are converted to float32. Errors
 * (`PersonaFileError`): no such tensor, not 2-D, fewer than 2 rows, a hidden size or layer count
 * other than the one expected, NaN/Inf.
 *
 * @example
 * const { vectors } = await readPvSafetensors('formal.safetensors', { hiddenSize: 1024, numLayers: 28 });
 * vectors[20]; // the direction after block 20 = their hidden_states index 21
 */
export async function readPvSafetensors(file: string, options: ReadPvOptions = {}): Promise<PvVectors> {
  let st: SafetensorsFile;
  try {
    st = await SafetensorsFile.open(file);
  } catch (err) {
    if (err instanceof ModelFileError) throw new PersonaFileError(err.message, { cause: err });
    throw err;
  }
  const where = file;
  let info: TensorInfo | undefined = st.tensors.get(PV_TENSOR_NAME);
  if (!info) {
    const twoD = [...st.tensors.values()].filter((t) => t.shape.length === 2);
    if (twoD.length !== 1) {
      throw new PersonaFileError(
        `${where} has no tensor "${PV_TENSOR_NAME}" and not exactly one 2-D tensor (found: ${[...st.tensors.keys()].join(', ') || 'none'}).`,
      );
    }
    info = twoD[0];
  }
  if (info.shape.length !== 2) throw new PersonaFileError(`${where}: tensor ${info.name} has shape [${info.shape.join(', ')}]; [L+1, H] was expected.`);
  const [rows, hiddenSize] = info.shape;
  const numLayers = rows - 1;
  if (numLayers < 1 || hiddenSize < 1) throw new PersonaFileError(`${where}: tensor ${info.name} has shape [${rows}, ${hiddenSize}]; [L+1, H] with L ≥ 1 was expected.`);
  if (options.hiddenSize !== undefined && hiddenSize !== options.hiddenSize) {
    throw new PersonaFileError(`${where}: vectors have hidden size ${hiddenSize} but the model's is ${options.hiddenSize}: they were made for another model.`);
  }
  if (options.numLayers !== undefined && numLayers !== options.numLayers) {
    throw new PersonaFileError(
      `${where}: tensor ${info.name} has ${rows} rows (${numLayers} blocks + embedding) but the model has ${options.numLayers} blocks: they were made for another model.`,
    );
  }
  let flat: Float32Array;
  try {
    flat = await st.readFloat32(info.name); // [L+1, H]
  } catch (err) {
    if (err instanceof ModelFileError) throw new PersonaFileError(`${where}: ${err.message}`, { cause: err });
    throw err;
  }
  if (!flat.every(Number.isFinite)) throw new PersonaFileError(`${where}: tensor ${info.name} contains NaN or Infinity.`);
  const vectors = Array.from({ length: numLayers }, (_, l) => flat.slice((l + 1) * hiddenSize, (l + 2) * hiddenSize));
  return { vectors, numLayers, hiddenSize, metadata: st.metadata };
}
