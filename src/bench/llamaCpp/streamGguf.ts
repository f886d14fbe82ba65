import { promises as fs } from 'node:fs';
import { InvalidArgumentError } from '../../errors.js';
import { encodeGguf } from '../../gguf/encodeGguf.js';
import { GGML_TYPE, GGUF_DEFAULT_ALIGNMENT, alignOffset, ggmlTypeName, type GgufValue } from '../../gguf/ggufTypes.js';
import { tempPathFor } from '../../util/atomicWrite.js';
import type { ProgressCallback } from '../../util/progress.js';

/**
 * Block layout of the ggml types a benchmark GGUF is written in (ggml `ggml-common.h`):
 * `elements` values are stored in `bytes` bytes. Q8_0 is an f16 scale and 32 int8 (34 bytes per
 * 32); Q4_0 is an f16 scale and 16 bytes of nibbles (18 bytes per 32; low nibbles are values
 * 0–15, high nibbles 16–31).
 *
 * @example GGML_BLOCK[GGML_TYPE.Q4_0]; // { elements: 32, bytes: 18 }
 */
export const GGML_BLOCK: Readonly<Partial<Record<number, { elements: number; bytes: number }>>> = {
  [GGML_TYPE.F32]: { elements: 1, bytes: 4 },
  [GGML_TYPE.F16]: { elements: 1, bytes: 2 },
  [GGML_TYPE.Q8_0]: { elements: 32, bytes: 34 },
  [GGML_TYPE.Q4_0]: { elements: 32, bytes: 18 },
};

/**
 * Bytes of a tensor's data in ggml type `type` with `dims` in ggml order (`dims[0]` varies
 * fastest, and a quantised type's blocks run along it, so it must be a multiple of the block).
 *
 * @example ggmlTensorBytes(GGML_TYPE.Q8_0, [1024, 3072]); // 1024 / 32 * 34 * 3072 = 3342336
 */
export function ggmlTensorBytes(type: number, dims: readonly number[]): number {
  const block = GGML_BLOCK[type];
  if (!block) throw new InvalidArgumentError(`ggml type ${ggmlTypeName(type)} cannot be written here; use F32, F16, Q8_0 or Q4_0.`);
  if (dims.length < 1 || dims.length > 4 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
    throw new InvalidArgumentError(`tensor dims ${JSON.stringify(dims)} must be 1 to 4 positive integers.`);
  }
  if (dims[0] % block.elements !== 0) {
    throw new InvalidArgumentError(`a ${ggmlTypeName(type)} tensor needs its first dimension to be a multiple of ${block.elements}, got ${dims[0]}.`);
  }
  return (dims.reduce((a, b) => a * b, 1) / block.elements) * block.bytes;
}

/**
 * A tensor whose bytes are produced on demand, chunk by chunk, so a file of several GB is never
 * held in memory.
 *
 * @example
 * const t: StreamedTensor = { name: 'output_norm.weight', dims: [1024], type: GGML_TYPE.F32, fill: (buf) => new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).fill(1) };
 */
export interface StreamedTensor {
  name: string;
  /** Dimensions in ggml order (`dims[0]` varies fastest). */
  dims: number[];
  /** ggml type id: F32, F16, Q8_0 or Q4_0. */
  type: number;
  /**
   * Writes the next `buf.byteLength` bytes of the tensor's data into `buf`. Called in order from
   * the tensor's first byte; every call but the last gets a whole number of blocks, a multiple of
   * 4 bytes long, and `buf.byteOffset` is a multiple of 4.
   */
  fill(buf: Uint8Array, offsetInTensor: number): void;
}

/**
 * What `streamGguf` writes: metadata in file order, then tensors in file order.
 *
 * @example const f: StreamedGguf = { metadata: new Map(), tensors: [] };
 */
export interface StreamedGguf {
  metadata: Map<string, GgufValue>;
  tensors: StreamedTensor[];
}

const MAX_NAME_BYTES = 63;

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/**
 * The bytes before the data section: the project's `encodeGguf` writes magic, version, counts and
 * metadata (with no tensors); the tensor count is then set and the tensor infos appended, padded
 * to the alignment. Returns the header and the data offset of each tensor.
 */
function ggufHeader(file: StreamedGguf): { header: Uint8Array; offsets: number[]; sizes: number[]; alignment: number } {
  const alignValue = file.metadata.get('general.alignment');
  const alignment = alignValue && alignValue.type === 'uint32' ? alignValue.value : GGUF_DEFAULT_ALIGNMENT;
  // encodeGguf validates keys and values (and general.alignment) and lays them out per the spec.
  const meta = encodeGguf({ metadata: file.metadata, tensors: [] });
  new DataView(meta.buffer, meta.byteOffset, meta.byteLength).setBigUint64(8, BigInt(file.tensors.length), true);

  const parts: Uint8Array[] = [meta];
  const utf8 = new TextEncoder();
  const names = new Set<string>();
  const offsets: number[] = [];
  const sizes: number[] = [];
  let offset = 0;
  for (const t of file.tensors) {
    if (names.has(t.name)) throw new InvalidArgumentError(`GGUF tensor name ${t.name} is used twice.`);
    names.add(t.name);
    const name = utf8.encode(t.name);
    if (name.byteLength === 0 || name.byteLength > MAX_NAME_BYTES)
      throw new InvalidArgumentError(`GGUF tensor name ${JSON.stringify(t.name)} must be 1 to ${MAX_NAME_BYTES} bytes.`);
    const size = ggmlTensorBytes(t.type, t.dims);
    parts.push(u64(name.byteLength), name, u32(t.dims.length), ...t.dims.map(u64), u32(t.type), u64(offset));
    offsets.push(offset);
    sizes.push(size);
    offset = alignOffset(offset + size, alignment);
  }
  let length = parts.reduce((a, p) => a + p.byteLength, 0);
  const padded = file.tensors.length > 0 ? alignOffset(length, alignment) : length;
  const header = new Uint8Array(padded);
  length = 0;
  for (const p of parts) {
    header.set(p, length);
    length += p.byteLength;
  }
  return { header, offsets, sizes, alignment };
}

/**
 * Total size in bytes of the GGUF file `streamGguf` would write (header, tensor data, padding).
 *
 * @example const bytes = ggufFileSize({ metadata, tensors }); // check free disk space first
 */
export function ggufFileSize(file: StreamedGguf): number {
  const { header, offsets, sizes, alignment } = ggufHeader(file);
  if (offsets.length === 0) return header.byteLength;
  return header.byteLength + alignOffset(offsets[offsets.length - 1] + sizes[sizes.length - 1], alignment);
}

/**
 * Writes a GGUF v3 file without holding its data in memory: the header first, then each tensor's
 * data in chunks of about `chunkBytes`, produced by the tensor's `fill`. Each tensor (the last
 * too) is zero-padded to the alignment, as ggml's loader expects. The file is written to a temp
 * file in the same folder, synced and renamed, so an interrupted write leaves no file under
 * `target`.
 *
 * @example
 * await streamGguf('model.gguf', { metadata, tensors }, { onProgress: (e) => console.log(e.done, e.total) });
 */
export async function streamGguf(
  target: string,
  file: StreamedGguf,
  options: { chunkBytes?: number; onProgress?: ProgressCallback; phase?: string } = {},
): Promise<{ bytes: number }> {
  const { header, offsets, sizes, alignment } = ggufHeader(file);
  const total = header.byteLength + (offsets.length ? alignOffset(offsets[offsets.length - 1] + sizes[sizes.length - 1], alignment) : 0);
  const chunkTarget = Math.max(1 << 16, options.chunkBytes ?? 8 << 20);
  const phase = options.phase ?? 'write GGUF';
  const tmp = tempPathFor(target);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, 'w');
    let pos = 0;
    const write = async (bytes: Uint8Array): Promise<void> => {
      let done = 0;
      while (done < bytes.byteLength) {
        const { bytesWritten } = await handle!.write(bytes, done, bytes.byteLength - done, pos + done);
        done += bytesWritten;
      }
      pos += bytes.byteLength;
    };
    await write(header);
    options.onProgress?.({ phase, done: pos, total, unit: 'bytes' });
    const buffer = new Uint8Array(chunkTarget + 256);
    for (let i = 0; i < file.tensors.length; i++) {
      const t = file.tensors[i];
      const blockBytes = GGML_BLOCK[t.type]!.bytes;
      // A whole number of blocks and of 4-byte words per chunk, so fills can use 32-bit views.
      const unit = blockBytes % 4 === 0 ? blockBytes : blockBytes % 2 === 0 ? blockBytes * 2 : blockBytes * 4;
      const step = Math.max(unit, Math.floor(chunkTarget / unit) * unit);
      for (let at = 0; at < sizes[i]; at += step) {
        const n = Math.min(step, sizes[i] - at);
        const view = buffer.subarray(0, n);
        t.fill(view, at);
        await write(view);
        options.onProgress?.({ phase, done: pos, total, unit: 'bytes' });
      }
      const end = header.byteLength + alignOffset(offsets[i] + sizes[i], alignment);
      if (end > pos) {
        await write(new Uint8Array(end - pos));
        options.onProgress?.({ phase, done: pos, total, unit: 'bytes' });
      }
    }
    if (pos !== total) throw new Error(`internal error: wrote ${pos} bytes of a ${total}-byte GGUF file.`);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, target);
    return { bytes: total };
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
