/**
 * llama.cpp / repeng control vectors: a GGUF file with `general.architecture = "controlvector"`,
 * `controlvector.model_hint` (string), `controlvector.layer_count` and one F32 1-D tensor
 * `direction.N` of length n_embd per steered block.
 *
 * Layer index: `direction.N` is added to the output of 0-based decoder block N — the same index
 * as ours ("layer l" = residual stream after block l), so no shift happens here. llama.cpp's loader
 * (`common_control_vector_load_one`) stores `direction.N` at buffer offset `(N−1)·n_embd` and its
 * applier (`llama_adapter_cvec::apply`) fills block `il` from offset `(il−1)·n_embd` for
 * `il = 1..n_layer−1`: block 0 is never steered and `direction.0` makes it refuse the whole file.
 */
import { InvalidArgumentError, PersonaFileError } from '../../errors.js';
import { atomicWrite } from '../../util/atomicWrite.js';
import { decodeGguf, ggufTensorFloat32, readGguf, type GgufFile } from '../../gguf/decodeGguf.js';
import { encodeGguf } from '../../gguf/encodeGguf.js';
import { GGML_TYPE, ggmlTypeName, type GgufValue } from '../../gguf/ggufTypes.js';

/**
 * Per-block steering directions as a control-vector file carries them.
 *
 * @example const cv: ControlVectorDirections = { modelHint: 'qwen3', hiddenSize: 1024, directions: new Map([[3, v]]) };
 */
export interface ControlVectorDirections {
  /** `controlvector.model_hint`: the model's architecture or HF `model_type`; 'unknown' if the file has none. */
  modelHint: string;
  hiddenSize: number;
  /** 0-based decoder block → direction [hiddenSize], added to that block's output. */
  directions: Map<number, Float32Array>;
  /**
   * `persona_vectors.meta`: this toolkit's own record of the persona (JSON, see `exportedMeta`), which
   * llama.cpp and repeng ignore; absent in files made elsewhere.
   */
  personaMeta?: string;
}

/** The GGUF key holding this toolkit's persona record (llama.cpp reads no metadata of a control vector). */
export const PERSONA_META_KEY = 'persona_vectors.meta';

/**
 * What the model expects of a control vector read for it.
 *
 * @example const opts: ReadControlVectorOptions = { hiddenSize: 1024, numLayers: 28 };
 */
export interface ReadControlVectorOptions {
  /** The model's hidden size; every direction must have this length. */
  hiddenSize?: number;
  /** The model's number of decoder blocks; `direction.N` needs N ≤ numLayers − 1. */
  numLayers?: number;
}

const ARCH = 'controlvector';
const DIRECTION_NAME = /^direction\.(\d+)$/;

function isAllZero(v: Float32Array): boolean {
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) return false;
  return true;
}

/**
 * Encodes a control vector as llama.cpp and repeng read it. Tensors are written in block order;
 * `controlvector.layer_count` is a uint32 (as repeng writes it; llama.cpp reads no metadata) and
 * counts the direction tensors written. An all-zero block-0 direction is dropped; any other
 * block-0 direction is an `InvalidArgumentError`, because llama.cpp never steers block 0.
 *
 * @example
 * const dirs = new Map([[3, new Float32Array(1024).fill(0.1)]]);
 * const bytes = encodeControlVectorGguf({ modelHint: 'qwen3', hiddenSize: 1024, directions: dirs });
 */
export function encodeControlVectorGguf(cv: ControlVectorDirections): Uint8Array {
  const { hiddenSize } = cv;
  if (!Number.isInteger(hiddenSize) || hiddenSize <= 0) {
    throw new InvalidArgumentError(`Control vector hiddenSize must be a positive integer, got ${hiddenSize}.`);
  }
  const blocks = [...cv.directions.keys()].sort((a, b) => a - b);
  const tensors = [];
  for (const block of blocks) {
    const v = cv.directions.get(block)!;
    if (!Number.isInteger(block) || block < 0) {
      throw new InvalidArgumentError(`Control vector block ${block} is not a 0-based decoder block index.`);
    }
    if (v.length !== hiddenSize) {
      throw new InvalidArgumentError(`Control vector direction for block ${block} has ${v.length} values; hiddenSize is ${hiddenSize}.`);
    }
    if (!v.every(Number.isFinite)) {
      throw new InvalidArgumentError(`Control vector direction for block ${block} contains NaN or Infinity.`);
    }
    if (block === 0) {
      if (isAllZero(v)) continue;
      throw new InvalidArgumentError(
        'Control vector has a non-zero direction for block 0, which a llama.cpp control vector cannot hold: ' +
          'llama.cpp never steers block 0 and refuses files with direction.0. Drop layer 0 or steer from layer 1 on.',
      );
    }
    tensors.push({ name: `direction.${block}`, dims: [hiddenSize], data: v });
  }
  if (tensors.length === 0) {
    throw new InvalidArgumentError('Control vector has no direction for any block ≥ 1; llama.cpp refuses a file with no direction tensors.');
  }
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: ARCH }],
    [`${ARCH}.model_hint`, { type: 'string', value: cv.modelHint }],
    [`${ARCH}.layer_count`, { type: 'uint32', value: tensors.length }],
  ]);
  if (cv.personaMeta !== undefined) metadata.set(PERSONA_META_KEY, { type: 'string', value: cv.personaMeta });
  return encodeGguf({ metadata, tensors });
}

/**
 * Writes a control vector GGUF atomically (temp file + rename); see `encodeControlVectorGguf`.
 *
 * @example await writeControlVectorGguf('formal.gguf', { modelHint: 'qwen3', hiddenSize: 1024, directions });
 */
export async function writeControlVectorGguf(file: string, cv: ControlVectorDirections): Promise<void> {
  await atomicWrite(file, encodeControlVectorGguf(cv));
}

/**
 * Reads control-vector directions out of GGUF bytes or a parsed GGUF file, as strict as
 * llama.cpp's loader and a little stricter: every tensor must be named `direction.N` with N ≥ 1 (llama.cpp refuses the whole
 * file for any other name, so we do not silently ignore one), F32, 1-D, all of one length; values
 * must be finite; a block may appear once. With options, the length must equal `hiddenSize` and N
 * must be a block the model has (N ≤ numLayers − 1; llama.cpp would ignore it silently). A file with
 * no `controlvector.model_hint` is accepted (llama.cpp does not read it) as 'unknown'; a file whose
 * `general.architecture` is present and not "controlvector" is refused as not a control vector.
 * `controlvector.layer_count` is not read (repeng writes it as uint32, cvector-generator as int32).
 *
 * @example
 * const cv = decodeControlVectorGguf(bytes, { hiddenSize: 1024, numLayers: 28 });
 * cv.directions.get(3); // Float32Array(1024), added after block 3
 */
export function decodeControlVectorGguf(input: Uint8Array | GgufFile, options: ReadControlVectorOptions = {}): ControlVectorDirections {
  const gguf = input instanceof Uint8Array ? decodeGguf(input, 'control vector') : input;
  const fail: (message: string) => never = (message) => {
    throw new PersonaFileError(`${gguf.source}: ${message}`);
  };
  const arch = gguf.metadata.get('general.architecture');
  if (arch && !(arch.type === 'string' && arch.value === ARCH)) {
    fail(`general.architecture is ${JSON.stringify(arch.value)}, not "controlvector": this is not a control vector file.`);
  }
  let modelHint = 'unknown';
  const hint = gguf.metadata.get(`${ARCH}.model_hint`);
  if (hint) {
    if (hint.type !== 'string') fail(`controlvector.model_hint must be a string, but it is a ${hint.type}.`);
    modelHint = hint.value;
  }
  if (gguf.tensors.length === 0) fail('the file has no direction tensors; llama.cpp would refuse it too.');

  const { hiddenSize: expectedSize, numLayers } = options;
  let hiddenSize: number | undefined;
  const directions = new Map<number, Float32Array>();
  for (const t of gguf.tensors) {
    const m = DIRECTION_NAME.exec(t.name);
    if (!m) {
      fail(`tensor "${t.name}" is not named direction.N; a control vector holds only direction tensors (llama.cpp refuses the file too).`);
    }
    const block = Number(m[1]);
    if (block === 0) {
      fail('tensor direction.0 steers block 0, which llama.cpp never steers; it refuses such a file. Remove direction.0.');
    }
    if (directions.has(block)) fail(`two tensors name block ${block} (${t.name}); each block may appear once.`);
    if (t.type !== GGML_TYPE.F32) {
      fail(`tensor ${t.name} is ${ggmlTypeName(t.type)}; control vector directions must be F32 (llama.cpp refuses other types). Re-export it as F32.`);
    }
    // Like ggml_n_dims, trailing dimensions of 1 do not count: [n_embd, 1] is 1-D.
    if (t.dims.length === 0 || t.dims.slice(1).some((d) => d !== 1)) {
      fail(`tensor ${t.name} has shape [${t.dims.join(', ')}]; control vector directions must be 1-D [n_embd].`);
    }
    const n = t.dims[0];
    if (expectedSize !== undefined && n !== expectedSize) {
      fail(`tensor ${t.name} has ${n} values but the model's hidden size is ${expectedSize}: this control vector is for another model.`);
    }
    if (hiddenSize !== undefined && n !== hiddenSize) fail(`tensor ${t.name} has ${n} values but earlier directions have ${hiddenSize}.`);
    hiddenSize = n;
    if (numLayers !== undefined && block > numLayers - 1) {
      fail(`tensor ${t.name} steers block ${block}, but the model has ${numLayers} blocks (0–${numLayers - 1}).`);
    }
    const v = ggufTensorFloat32(gguf, t);
    if (!v.every(Number.isFinite)) fail(`tensor ${t.name} contains NaN or Infinity.`);
    directions.set(block, v);
  }
  const meta = gguf.metadata.get(PERSONA_META_KEY);
  if (meta && meta.type !== 'string') fail(`${PERSONA_META_KEY} must be a string, but it is a ${meta.type}.`);
  return {
    modelHint,
    hiddenSize: hiddenSize!,
    directions: new Map([...directions].sort((a, b) => a[0] - b[0])),
    ...(meta ? { personaMeta: meta.value as string } : {}),
  };
}

/**
 * Reads a llama.cpp / repeng control vector file; see `decodeControlVectorGguf` for what is checked.
 *
 * @example const cv = await readControlVectorGguf('formal.gguf', { hiddenSize: 1024, numLayers: 28 });
 */
export async function readControlVectorGguf(file: string, options: ReadControlVectorOptions = {}): Promise<ControlVectorDirections> {
  return decodeControlVectorGguf(await readGguf(file), options);
}
