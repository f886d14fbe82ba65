/**
 * persona_vectors' vector layout (Chen et al. 2025, "Persona Vectors"; `generate_vec.py`): one
 * float32 tensor `[L+1, H]` indexed like Hugging Face `hidden_states` — row 0 is the embedding
 * output, row l+1 is the output of decoder block l. This module reads and writes that layout as
 * their own `.pt` (torch zip archive, read by the restricted unpickler in `./pt/`, so
 * `torch.load(f)[l + 1]` is block l) and as a safetensors file with one tensor, `persona_vector`,
 * which `safetensors.torch.load_file(f)['persona_vector']` turns back into their tensor.
 *
 * Our index is the 0-based block l, so this is the one place where l ↔ l+1 is converted.
 */
import { ModelFileError, InvalidArgumentError, PersonaFileError } from '../../errors.js';
import { SafetensorsFile, type TensorInfo } from '../../model/safetensors/SafetensorsFile.js';
import { encodeSafetensors } from '../../model/safetensors/writeSafetensors.js';
import { atomicWrite } from '../../util/atomicWrite.js';
import { PtTensor, decodeTorchPt, encodeTorchPt, readTorchPt, writeTorchPt, type PtValue } from './pt/torchPt.js';

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
  checkPvShape(where, info.name, info.shape[0], info.shape[1], options);
  let flat: Float32Array;
  try {
    flat = await st.readFloat32(info.name); // [L+1, H]
  } catch (err) {
    if (err instanceof ModelFileError) throw new PersonaFileError(`${where}: ${err.message}`, { cause: err });
    throw err;
  }
  return { ...rowsToVectors(where, info.name, flat, info.shape[0], info.shape[1]), metadata: st.metadata };
}

function checkPvShape(where: string, name: string, rows: number, hiddenSize: number, options: ReadPvOptions): void {
  const numLayers = rows - 1;
  if (numLayers < 1 || hiddenSize < 1)
    throw new PersonaFileError(`${where}: tensor ${name} has shape [${rows}, ${hiddenSize}]; [L+1, H] with L ≥ 1 was expected.`);
  if (options.hiddenSize !== undefined && hiddenSize !== options.hiddenSize) {
    throw new PersonaFileError(`${where}: vectors have hidden size ${hiddenSize} but the model's is ${options.hiddenSize}: they were made for another model.`);
  }
  if (options.numLayers !== undefined && numLayers !== options.numLayers) {
    throw new PersonaFileError(
      `${where}: tensor ${name} has ${rows} rows (${numLayers} blocks + embedding) but the model has ${options.numLayers} blocks: they were made for another model.`,
    );
  }
}

/** [L+1, H] rows → vectors[l] = row l+1 (row 0, the embedding output, is dropped). */
function rowsToVectors(
  where: string,
  name: string,
  flat: Float32Array,
  rows: number,
  hiddenSize: number,
): { vectors: Float32Array[]; numLayers: number; hiddenSize: number } {
  if (!flat.every(Number.isFinite)) throw new PersonaFileError(`${where}: tensor ${name} contains NaN or Infinity.`);
  const numLayers = rows - 1;
  const vectors = Array.from({ length: numLayers }, (_, l) => flat.slice((l + 1) * hiddenSize, (l + 2) * hiddenSize));
  return { vectors, numLayers, hiddenSize };
}

/** The [L+1, H] tensor of a `.pt`: the tensor itself, a dict's `persona_vector` or only 2-D tensor, or a list of 1-D rows (stacked). */
function pvTensorOf(value: PtValue, where: string): { name: string; rows: number; hiddenSize: number; flat: Float32Array } {
  if (value instanceof PtTensor) {
    if (value.shape.length !== 2)
      throw new PersonaFileError(`${where}: the tensor has shape [${value.shape.join(', ')}]; persona_vectors' [L+1, H] was expected.`);
    return { name: 'the tensor', rows: value.shape[0], hiddenSize: value.shape[1], flat: value.data };
  }
  if (value instanceof Map) {
    const named = value.get(PV_TENSOR_NAME);
    const twoD = [...value].filter(([, v]) => v instanceof PtTensor && v.shape.length === 2);
    const pick = named instanceof PtTensor ? ([PV_TENSOR_NAME, named] as const) : twoD.length === 1 ? twoD[0] : undefined;
    if (!pick)
      throw new PersonaFileError(
        `${where} holds a dict without "${PV_TENSOR_NAME}" and not exactly one 2-D tensor (keys: ${[...value.keys()].join(', ') || 'none'}).`,
      );
    const t = pick[1] as PtTensor;
    if (t.shape.length !== 2) throw new PersonaFileError(`${where}: "${PV_TENSOR_NAME}" has shape [${t.shape.join(', ')}]; [L+1, H] was expected.`);
    return { name: String(pick[0]), rows: t.shape[0], hiddenSize: t.shape[1], flat: t.data };
  }
  if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof PtTensor && v.shape.length === 1)) {
    const rows = value as PtTensor[];
    const h = rows[0].shape[0];
    if (rows.some((r) => r.shape[0] !== h)) throw new PersonaFileError(`${where}: the list's vectors have different lengths.`);
    const flat = new Float32Array(rows.length * h);
    rows.forEach((r, i) => flat.set(r.data, i * h));
    return { name: 'the list', rows: rows.length, hiddenSize: h, flat };
  }
  throw new PersonaFileError(`${where} holds no [L+1, H] tensor (persona_vectors saves one float tensor per trait).`);
}

/**
 * Reads persona_vectors' own `.pt` (`torch.save` of one `[L+1, H]` float tensor, e.g.
 * `Qwen3-4B/evil_response_avg_diff.pt`, `[37, 2560]`) into per-block vectors: vectors[l] = row
 * l+1; row 0 (the embedding output) is dropped. The pickle is interpreted safely (see
 * `pt/restrictedUnpickle.ts`): nothing in the file is executed. Also accepted: a dict holding
 * `persona_vector` or one 2-D tensor, a list of 1-D rows. Errors are `PersonaFileError`s.
 *
 * @example
 * const { vectors, numLayers } = await readPvPt('evil_response_avg_diff.pt', { hiddenSize: 2560, numLayers: 36 });
 */
export async function readPvPt(file: string, options: ReadPvOptions = {}): Promise<PvVectors> {
  return pvFromValue(await readTorchPt(file), file, options);
}

/**
 * `readPvPt` of bytes held in memory (an upload); `where` names them in errors.
 *
 * @example const pv = decodePvPt(body, 'upload evil.pt', { hiddenSize: 64, numLayers: 6 });
 */
export function decodePvPt(bytes: Uint8Array, where: string, options: ReadPvOptions = {}): PvVectors {
  return pvFromValue(decodeTorchPt(bytes, where), where, options);
}

function pvFromValue(value: PtValue, where: string, options: ReadPvOptions): PvVectors {
  const t = pvTensorOf(value, where);
  checkPvShape(where, t.name, t.rows, t.hiddenSize, options);
  return { ...rowsToVectors(where, t.name, t.flat, t.rows, t.hiddenSize), metadata: {} };
}

/**
 * Encodes per-block vectors as persona_vectors' `.pt`: one float32 tensor `[L+1, H]`, row 0 zero,
 * row l+1 = vectors[l], so `torch.load(f)[l + 1]` is block l — what their `steer.py` indexes.
 *
 * @example const bytes = encodePvPt(vectors); // torch.load → tensor [L+1, H]
 */
export function encodePvPt(vectors: Float32Array[], archiveName = 'archive'): Uint8Array {
  return encodeTorchPt(pvTensor(vectors), archiveName);
}

/**
 * Writes `encodePvPt`'s file atomically.
 *
 * @example await writePvPt('formal_response_avg_diff.pt', persona.vectors);
 */
export async function writePvPt(file: string, vectors: Float32Array[]): Promise<void> {
  await writeTorchPt(file, pvTensor(vectors));
}

function pvTensor(vectors: Float32Array[]): PtTensor {
  const numLayers = vectors.length;
  if (numLayers === 0) throw new InvalidArgumentError('persona_vectors export needs at least one layer vector.');
  const hiddenSize = vectors[0].length;
  const data = new Float32Array((numLayers + 1) * hiddenSize); // [L+1, H], row 0 stays zero
  vectors.forEach((v, l) => {
    if (v.length !== hiddenSize) throw new InvalidArgumentError(`persona_vectors export: layer ${l} has ${v.length} values, layer 0 has ${hiddenSize}.`);
    if (!v.every(Number.isFinite)) throw new InvalidArgumentError(`persona_vectors export: layer ${l} contains NaN or Infinity.`);
    data.set(v, (l + 1) * hiddenSize);
  });
  return new PtTensor([numLayers + 1, hiddenSize], data);
}

/**
 * Reads a persona_vectors file of either kind by its extension: `.pt` (`readPvPt`) or
 * `.safetensors` (`readPvSafetensors`).
 *
 * @example const { vectors } = await readPvFile('evil_response_avg_diff.pt', { hiddenSize: 2560 });
 */
export async function readPvFile(file: string, options: ReadPvOptions = {}): Promise<PvVectors> {
  if (/\.(pt|pth)$/i.test(file)) return readPvPt(file, options);
  return readPvSafetensors(file, options);
}
