import { constants as bufferConstants } from 'node:buffer';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ModelFileError } from '../../errors.js';
import { describeValue } from '../config/describeValue.js';
import { DTYPE_BYTES, FLOAT_DTYPES, isKnownDtype, toFloat32Into, type SafetensorsDtype } from './dtypes.js';

/** One tensor's entry in a safetensors header. Offsets are absolute in the file. */
export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offset of the data in the file. */
  offset: number;
  byteLength: number;
  file: string;
}

const MAX_HEADER = 100 * 1024 * 1024;

/**
 * Bytes read per `read()` call: a multi-GB tensor is read in pieces of this size straight into its
 * destination, far below the 2 GiB a single read may ask for.
 *
 * @example await readTensorFloat32(info, READ_CHUNK_BYTES / 4); // smaller reads
 */
export const READ_CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * The most elements one tensor may have to be read whole (the JavaScript typed-array limit, 2³²):
 * a bigger tensor is refused with a `ModelFileError` before anything is allocated. Ranges of it can
 * still be read with `readTensorBytes(info, { start, length })`.
 *
 * @example if (numel > MAX_TENSOR_ELEMENTS) await readTensorBytes(info, { start: 0, length: 1 << 20 });
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 32;
/**
 * The most bytes one tensor's raw read may return (Node's largest Buffer, 4 GiB).
 *
 * @example info.byteLength <= MAX_TENSOR_BYTES;
 */
export const MAX_TENSOR_BYTES: number = bufferConstants.MAX_LENGTH;

/**
 * A safetensors file opened for reading by range: only the header is read up front, tensors are
 * read one at a time, so a multi-GB checkpoint is never held in one buffer.
 * Format: u64 LE header length N, N bytes of JSON header, then the data section.
 * The header is checked as the reference `safetensors` library checks it: known dtypes, whole
 * non-negative dims, each tensor's byte span equal to its shape × dtype, and the spans tiling the
 * data section exactly (no overlap, no gap, nothing after the last tensor).
 *
 * @example
 * const f = await SafetensorsFile.open('model.safetensors');
 * const w = await f.readFloat32('model.embed_tokens.weight'); // Float32Array
 */
export class SafetensorsFile {
  private constructor(
    readonly file: string,
    readonly tensors: Map<string, TensorInfo>,
    readonly metadata: Record<string, string>,
    readonly fileSize: number,
  ) {}

  static async open(file: string): Promise<SafetensorsFile> {
    let handle: fs.FileHandle;
    try {
      // Before opening: opening a FIFO for reading would wait for a writer forever.
      if (!(await fs.stat(file)).isFile()) throw new ModelFileError(`${file} is not a regular file; a safetensors file was expected.`);
      handle = await fs.open(file, 'r');
    } catch (err) {
      if (err instanceof ModelFileError) throw err;
      throw new ModelFileError(`Cannot open safetensors file ${file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const size = (await handle.stat()).size;
      const where = path.basename(file);
      if (size < 8) throw new ModelFileError(`${where} is truncated: ${size} bytes, too short for a safetensors header. Re-download the file.`);
      const lenBuf = Buffer.alloc(8);
      await readFully(handle, lenBuf, 0, file);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > MAX_HEADER || 8 + headerLen > size) {
        throw new ModelFileError(`${where} is corrupt or truncated: its header claims ${headerLen} bytes but the file has ${size}. Re-download the file.`);
      }
      const headerBuf = Buffer.alloc(headerLen);
      await readFully(handle, headerBuf, 8, file);
      return new SafetensorsFile(file, ...parseHeader(headerBuf, where, file, 8 + headerLen, size), size);
    } finally {
      await handle.close();
    }
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new ModelFileError(`Tensor ${name} is not in ${path.basename(this.file)}.`);
    return t;
  }

  /** Raw little-endian bytes of one tensor (or of a byte range of it). */
  async readBytes(name: string, range?: ByteRange): Promise<Uint8Array> {
    return readTensorBytes(this.info(name), range);
  }

  /** One float tensor converted to float32. */
  async readFloat32(name: string): Promise<Float32Array> {
    return readTensorFloat32(this.info(name));
  }
}

function parseHeader(headerBuf: Buffer, where: string, file: string, dataStart: number, size: number): [Map<string, TensorInfo>, Record<string, string>] {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(headerBuf.toString('utf8'));
  } catch (err) {
    throw new ModelFileError(`${where} has a header that is not valid JSON; the file is corrupt. Re-download it.`, { cause: err });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new ModelFileError(`${where} has a malformed header (expected a JSON object).`);
  }
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  const spans: { name: string; start: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (entry !== null && (typeof entry !== 'object' || Array.isArray(entry) || !Object.values(entry).every((v) => typeof v === 'string'))) {
        throw new ModelFileError(`${where}: __metadata__ must map names to strings; the header is malformed.`);
      }
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new ModelFileError(`${where}: tensor ${name} has a malformed header entry ${describeValue(entry)}.`);
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !isKnownDtype(e.dtype)) {
      throw new ModelFileError(`${where}: tensor ${name} has unknown dtype ${describeValue(e.dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')}).`);
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ModelFileError(`${where}: tensor ${name} has a malformed shape ${describeValue(e.shape)}.`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[1] < offs[0]) {
      throw new ModelFileError(`${where}: tensor ${name} has malformed data_offsets ${describeValue(offs)}.`);
    }
    const numel = (e.shape as number[]).reduce((a, b) => a * b, 1);
    const needed = numel * DTYPE_BYTES[e.dtype];
    const byteLength = offs[1] - offs[0];
    if (!Number.isSafeInteger(needed) || byteLength !== needed) {
      throw new ModelFileError(`${where}: tensor ${name} spans ${byteLength} bytes but shape ${describeValue(e.shape)} × ${e.dtype} needs ${needed}.`);
    }
    if (dataStart + offs[1] > size) {
      throw new ModelFileError(
        `${where} is truncated or corrupt: tensor ${name} ends at byte ${dataStart + offs[1]} but the file has ${size} bytes. Re-download the file.`,
      );
    }
    spans.push({ name, start: offs[0], end: offs[1] });
    tensors.set(name, { name, dtype: e.dtype, shape: e.shape as number[], offset: dataStart + offs[0], byteLength, file });
  }
  // As the reference library: sorted by offset, each tensor starts where the previous one ends and
  // the last one ends at the end of the file.
  spans.sort((a, b) => a.start - b.start || a.end - b.end);
  let expected = 0;
  let previous = '';
  for (const s of spans) {
    if (s.start < expected) {
      throw new ModelFileError(
        `${where} is corrupt: tensor ${s.name} (bytes ${s.start}–${s.end} of the data) overlaps ${previous}, which ends at ${expected}.`,
      );
    }
    if (s.start > expected) {
      throw new ModelFileError(
        `${where} is corrupt: a gap of ${s.start - expected} bytes before tensor ${s.name}${previous ? ` (after ${previous})` : ''}; tensor data must be contiguous.`,
      );
    }
    expected = s.end;
    previous = s.name;
  }
  if (dataStart + expected !== size) {
    throw new ModelFileError(
      `${where} is corrupt: its tensors end at byte ${dataStart + expected} but the file has ${size} bytes (${size - dataStart - expected} bytes that no tensor describes).`,
    );
  }
  return [tensors, metadata];
}

/** A byte range within one tensor's data. */
export interface ByteRange {
  /** First byte, relative to the tensor's data. */
  start: number;
  length: number;
}

/**
 * Reads exactly `dest.byteLength` bytes at `position` into `dest`, in reads of at most
 * `chunkBytes` (Node refuses a single read of 2 GiB or more). A short file is a `ModelFileError`.
 *
 * @example await readFully(handle, new Uint8Array(3 << 30), 0, 'model.safetensors');
 */
export async function readFully(handle: fs.FileHandle, dest: Uint8Array, position: number, file: string, chunkBytes = READ_CHUNK_BYTES): Promise<void> {
  let done = 0;
  while (done < dest.byteLength) {
    const n = Math.min(chunkBytes, dest.byteLength - done);
    const { bytesRead } = await handle.read(dest, done, n, position + done);
    if (bytesRead === 0) throw new ModelFileError(`${path.basename(file)} ended early at byte ${position + done}; the file is truncated. Re-download it.`);
    done += bytesRead;
  }
}

/**
 * Reads the bytes of a tensor (or of `range` within it) from its file, in chunks. A tensor larger
 * than `MAX_TENSOR_BYTES` is refused whole; read it by ranges.
 *
 * @example const head = await readTensorBytes(info, { start: 0, length: 64 });
 */
export async function readTensorBytes(info: TensorInfo, range?: ByteRange, chunkBytes = READ_CHUNK_BYTES): Promise<Uint8Array> {
  const start = range?.start ?? 0;
  const length = range?.length ?? info.byteLength;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0 || start + length > info.byteLength) {
    throw new ModelFileError(`Byte range ${start}+${length} is outside tensor ${info.name} (${info.byteLength} bytes) in ${path.basename(info.file)}.`);
  }
  if (length > MAX_TENSOR_BYTES) {
    throw new ModelFileError(
      `Tensor ${info.name} in ${path.basename(info.file)} is ${gib(length)}; one read can return at most ${gib(MAX_TENSOR_BYTES)}. Read it by ranges.`,
    );
  }
  const handle = await openForRead(info.file);
  try {
    const buf = allocate(() => new Uint8Array(length), info, length);
    await readFully(handle, buf, info.offset + start, info.file, chunkBytes);
    return buf;
  } finally {
    await handle.close();
  }
}

/**
 * Reads a float tensor (F32/F16/BF16/F64) and converts it to float32, chunk by chunk straight into
 * the result (no second copy of a multi-GB tensor). More than `MAX_TENSOR_ELEMENTS` elements is
 * refused before anything is allocated.
 *
 * @example const embed = await readTensorFloat32(weights.info('model.embed_tokens.weight'));
 */
export async function readTensorFloat32(info: TensorInfo, chunkBytes = READ_CHUNK_BYTES): Promise<Float32Array> {
  if (!FLOAT_DTYPES.includes(info.dtype)) {
    throw new ModelFileError(`Tensor ${info.name} has dtype ${info.dtype}; a float dtype (F32, F16, BF16) was expected.`);
  }
  const elementBytes = DTYPE_BYTES[info.dtype];
  const numel = info.byteLength / elementBytes;
  if (numel > MAX_TENSOR_ELEMENTS) {
    throw new ModelFileError(
      `Tensor ${info.name} in ${path.basename(info.file)} has ${numel} elements; this toolkit holds at most ${MAX_TENSOR_ELEMENTS} (2^32) in one float32 array.`,
    );
  }
  const out = allocate(() => new Float32Array(numel), info, numel * 4);
  const handle = await openForRead(info.file);
  try {
    const step = Math.max(elementBytes, chunkBytes - (chunkBytes % elementBytes));
    if (info.dtype === 'F32') {
      await readFully(handle, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), info.offset, info.file, step);
      return out;
    }
    const scratch = new Uint8Array(Math.min(step, info.byteLength));
    for (let done = 0; done < info.byteLength; done += scratch.byteLength) {
      const piece = scratch.subarray(0, Math.min(scratch.byteLength, info.byteLength - done));
      await readFully(handle, piece, info.offset + done, info.file, step);
      toFloat32Into(piece, info.dtype, out, done / elementBytes);
    }
    return out;
  } finally {
    await handle.close();
  }
}

async function openForRead(file: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(file, 'r');
  } catch (err) {
    throw new ModelFileError(`Cannot open ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function allocate<T>(make: () => T, info: TensorInfo, bytes: number): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof RangeError) {
      throw new ModelFileError(`Not enough memory to hold tensor ${info.name} of ${path.basename(info.file)} (${gib(bytes)}).`, { cause: err });
    }
    throw err;
  }
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}
