import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ModelFileError } from '../../errors.js';
import { DTYPE_BYTES, FLOAT_DTYPES, isKnownDtype, toFloat32, type SafetensorsDtype } from './dtypes.js';

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
 * A safetensors file opened for reading by range: only the header is read up front, tensors are
 * read one at a time, so a multi-GB checkpoint is never held in one buffer.
 * Format: u64 LE header length N, N bytes of JSON header, then the data section.
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
      handle = await fs.open(file, 'r');
    } catch (err) {
      throw new ModelFileError(`Cannot open safetensors file ${file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const size = (await handle.stat()).size;
      const where = path.basename(file);
      if (size < 8) throw new ModelFileError(`${where} is truncated: ${size} bytes, too short for a safetensors header. Re-download the file.`);
      const lenBuf = Buffer.alloc(8);
      await handle.read(lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > MAX_HEADER || 8 + headerLen > size) {
        throw new ModelFileError(
          `${where} is corrupt or truncated: its header claims ${headerLen} bytes but the file has ${size}. Re-download the file.`,
        );
      }
      const headerBuf = Buffer.alloc(headerLen);
      await handle.read(headerBuf, 0, headerLen, 8);
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(headerBuf.toString('utf8'));
      } catch (err) {
        throw new ModelFileError(`${where} has a header that is not valid JSON; the file is corrupt. Re-download it.`, { cause: err });
      }
      if (header === null || typeof header !== 'object' || Array.isArray(header)) {
        throw new ModelFileError(`${where} has a malformed header (expected a JSON object).`);
      }
      const dataStart = 8 + headerLen;
      const tensors = new Map<string, TensorInfo>();
      let metadata: Record<string, string> = {};
      for (const [name, entry] of Object.entries(header)) {
        if (name === '__metadata__') {
          metadata = (entry ?? {}) as Record<string, string>;
          continue;
        }
        const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
        if (typeof e.dtype !== 'string' || !isKnownDtype(e.dtype)) {
          throw new ModelFileError(`${where}: tensor ${name} has unknown dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')}).`);
        }
        if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
          throw new ModelFileError(`${where}: tensor ${name} has a malformed shape ${JSON.stringify(e.shape)}.`);
        }
        const offs = e.data_offsets;
        if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[1] < offs[0]) {
          throw new ModelFileError(`${where}: tensor ${name} has malformed data_offsets ${JSON.stringify(offs)}.`);
        }
        const numel = (e.shape as number[]).reduce((a, b) => a * b, 1);
        const byteLength = offs[1] - offs[0];
        if (byteLength !== numel * DTYPE_BYTES[e.dtype]) {
          throw new ModelFileError(`${where}: tensor ${name} spans ${byteLength} bytes but shape ${JSON.stringify(e.shape)} × ${e.dtype} needs ${numel * DTYPE_BYTES[e.dtype]}.`);
        }
        if (dataStart + offs[1] > size) {
          throw new ModelFileError(
            `${where} is truncated or corrupt: tensor ${name} ends at byte ${dataStart + offs[1]} but the file has ${size} bytes. Re-download the file.`,
          );
        }
        tensors.set(name, { name, dtype: e.dtype, shape: e.shape as number[], offset: dataStart + offs[0], byteLength, file });
      }
      return new SafetensorsFile(file, tensors, metadata, size);
    } finally {
      await handle.close();
    }
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new ModelFileError(`Tensor ${name} is not in ${path.basename(this.file)}.`);
    return t;
  }

  /** Raw little-endian bytes of one tensor. */
  async readBytes(name: string): Promise<Uint8Array> {
    return readTensorBytes(this.info(name));
  }

  /** One float tensor converted to float32. */
  async readFloat32(name: string): Promise<Float32Array> {
    return readTensorFloat32(this.info(name));
  }
}

/** Reads the bytes of a tensor by range from its file. */
export async function readTensorBytes(info: TensorInfo): Promise<Uint8Array> {
  const handle = await fs.open(info.file, 'r');
  try {
    const buf = new Uint8Array(info.byteLength);
    let done = 0;
    while (done < info.byteLength) {
      const { bytesRead } = await handle.read(buf, done, info.byteLength - done, info.offset + done);
      if (bytesRead === 0) throw new ModelFileError(`${path.basename(info.file)} ended early while reading ${info.name}; the file is truncated.`);
      done += bytesRead;
    }
    return buf;
  } finally {
    await handle.close();
  }
}

/** Reads a float tensor (F32/F16/BF16/F64) and converts it to float32. */
export async function readTensorFloat32(info: TensorInfo): Promise<Float32Array> {
  if (!FLOAT_DTYPES.includes(info.dtype)) {
    throw new ModelFileError(`Tensor ${info.name} has dtype ${info.dtype}; a float dtype (F32, F16, BF16) was expected.`);
  }
  return toFloat32(await readTensorBytes(info), info.dtype);
}
