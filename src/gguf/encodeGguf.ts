import { InvalidArgumentError } from '../errors.js';
import { atomicWrite } from '../util/atomicWrite.js';
import {
  GGML_ELEMENT_BYTES,
  GGML_TYPE,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VALUE_TYPE,
  GGUF_VERSION,
  alignOffset,
  ggmlTypeName,
  type GgufValue,
} from './ggufTypes.js';

/**
 * A tensor to write: F32 values, or raw little-endian bytes of another plain ggml type.
 *
 * @example const t: GgufTensorToWrite = { name: 'direction.3', dims: [1024], data: new Float32Array(1024) };
 */
export interface GgufTensorToWrite {
  name: string;
  /** Dimensions in ggml order (`dims[0]` varies fastest); 1 to 4 of them. */
  dims: number[];
  /** ggml type id; defaults to `GGML_TYPE.F32`. */
  type?: number;
  /** Float32Array for F32; the raw bytes otherwise. */
  data: Float32Array | Uint8Array;
}

/**
 * The contents of a GGUF file to encode.
 *
 * @example const f: GgufToWrite = { metadata: new Map([['general.architecture', { type: 'string', value: 'x' }]]), tensors: [] };
 */
export interface GgufToWrite {
  /** Metadata in the order to write it. `general.alignment` (uint32) sets the alignment. */
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorToWrite[];
}

/** ggml keeps tensor names in a 64-byte buffer with its NUL, so llama.cpp rejects longer ones. */
const MAX_TENSOR_NAME_BYTES = 63;

class ByteSink {
  private chunks: Uint8Array[] = [];
  length = 0;
  private readonly utf8 = new TextEncoder();

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.byteLength;
  }
  private fixed(n: number, write: (v: DataView) => void): void {
    const b = new Uint8Array(n);
    write(new DataView(b.buffer));
    this.push(b);
  }
  u8(v: number): void {
    this.fixed(1, (d) => d.setUint8(0, v));
  }
  u32(v: number): void {
    this.fixed(4, (d) => d.setUint32(0, v, true));
  }
  u64(v: number | bigint): void {
    this.fixed(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }
  string(s: string): void {
    const b = this.utf8.encode(s);
    this.u64(b.byteLength);
    this.push(b);
  }
  padTo(alignment: number): void {
    const pad = alignOffset(this.length, alignment) - this.length;
    if (pad > 0) this.push(new Uint8Array(pad));
  }
  value(v: GgufValue, what: string): void {
    const bad = (): never => {
      throw new InvalidArgumentError(`GGUF metadata ${what}: ${String(v.value)} is not a valid ${v.type}.`);
    };
    switch (v.type) {
      case 'uint8':
      case 'int8':
      case 'uint16':
      case 'int16':
      case 'uint32':
      case 'int32': {
        const bits = v.type.endsWith('8') ? 8 : v.type.endsWith('16') ? 16 : 32;
        const signed = v.type.startsWith('int');
        const lo = signed ? -(2 ** (bits - 1)) : 0;
        const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
        if (!Number.isInteger(v.value) || v.value < lo || v.value > hi) bad();
        const n = bits / 8;
        return this.fixed(n, (d) => {
          if (n === 1) signed ? d.setInt8(0, v.value) : d.setUint8(0, v.value);
          else if (n === 2) signed ? d.setInt16(0, v.value, true) : d.setUint16(0, v.value, true);
          else signed ? d.setInt32(0, v.value, true) : d.setUint32(0, v.value, true);
        });
      }
      case 'float32':
        return this.fixed(4, (d) => d.setFloat32(0, v.value, true));
      case 'float64':
        return this.fixed(8, (d) => d.setFloat64(0, v.value, true));
      case 'uint64':
        if (v.value < 0n || v.value >= 1n << 64n) bad();
        return this.fixed(8, (d) => d.setBigUint64(0, v.value, true));
      case 'int64':
        if (v.value < -(1n << 63n) || v.value >= 1n << 63n) bad();
        return this.fixed(8, (d) => d.setBigInt64(0, v.value, true));
      case 'bool':
        return this.u8(v.value ? 1 : 0);
      case 'string':
        return this.string(v.value);
      case 'array':
        if (v.itemType === 'array') throw new InvalidArgumentError(`GGUF metadata ${what} is an array of arrays, which GGUF readers (ggml's too) refuse.`);
        this.u32(GGUF_VALUE_TYPE[v.itemType]);
        this.u64(v.value.length);
        v.value.forEach((item, i) => {
          if (item.type !== v.itemType) {
            throw new InvalidArgumentError(`GGUF metadata ${what}[${i}] is a ${item.type} in an array of ${v.itemType}.`);
          }
          this.value(item, `${what}[${i}]`);
        });
        return;
    }
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let pos = 0;
    for (const c of this.chunks) {
      out.set(c, pos);
      pos += c.byteLength;
    }
    return out;
  }
}

function alignmentOf(metadata: Map<string, GgufValue>): number {
  const v = metadata.get('general.alignment');
  if (!v) return GGUF_DEFAULT_ALIGNMENT;
  if (v.type !== 'uint32' || v.value === 0 || (v.value & (v.value - 1)) !== 0) {
    throw new InvalidArgumentError(`general.alignment must be a uint32 power of two, got ${v.type} ${String(v.value)}.`);
  }
  return v.value;
}

function tensorBytes(t: GgufTensorToWrite): Uint8Array {
  const type = t.type ?? GGML_TYPE.F32;
  if (t.dims.length < 1 || t.dims.length > 4 || !t.dims.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new InvalidArgumentError(`GGUF tensor ${t.name}: dims ${JSON.stringify(t.dims)} must be 1 to 4 non-negative integers.`);
  }
  const elementBytes = GGML_ELEMENT_BYTES[type];
  if (elementBytes === undefined) {
    throw new InvalidArgumentError(`GGUF tensor ${t.name}: type ${ggmlTypeName(type)} cannot be written; use a plain type such as F32.`);
  }
  const numel = t.dims.reduce((a, b) => a * b, 1);
  if (t.data instanceof Float32Array) {
    if (type !== GGML_TYPE.F32) throw new InvalidArgumentError(`GGUF tensor ${t.name}: Float32Array data needs type F32, not ${ggmlTypeName(type)}.`);
    if (t.data.length !== numel)
      throw new InvalidArgumentError(`GGUF tensor ${t.name}: dims ${JSON.stringify(t.dims)} need ${numel} values, got ${t.data.length}.`);
    const out = new Uint8Array(numel * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < numel; i++) view.setFloat32(i * 4, t.data[i], true);
    return out;
  }
  if (t.data.byteLength !== numel * elementBytes) {
    throw new InvalidArgumentError(
      `GGUF tensor ${t.name}: dims ${JSON.stringify(t.dims)} × ${ggmlTypeName(type)} need ${numel * elementBytes} bytes, got ${t.data.byteLength}.`,
    );
  }
  return t.data;
}

/**
 * Encodes a GGUF v3 file (little-endian): header, metadata, tensor infos, then the data section
 * aligned to `general.alignment` (32 unless the metadata says otherwise). Tensors are laid out in
 * the given order, each padded to the alignment — including the last, because ggml's loader reads
 * the data section as the sum of padded sizes.
 *
 * @example
 * const bytes = encodeGguf({
 *   metadata: new Map([['general.architecture', { type: 'string', value: 'controlvector' }]]),
 *   tensors: [{ name: 'direction.3', dims: [1024], data: new Float32Array(1024) }],
 * });
 */
export function encodeGguf(file: GgufToWrite): Uint8Array {
  const alignment = alignmentOf(file.metadata);
  const sink = new ByteSink();
  sink.push(new TextEncoder().encode(GGUF_MAGIC));
  sink.u32(GGUF_VERSION);
  sink.u64(file.tensors.length);
  sink.u64(file.metadata.size);
  for (const [key, value] of file.metadata) {
    if (!/^[\x21-\x7e]+$/.test(key)) throw new InvalidArgumentError(`GGUF metadata key ${JSON.stringify(key)} must be non-empty printable ASCII.`);
    sink.string(key);
    sink.u32(GGUF_VALUE_TYPE[value.type]);
    sink.value(value, key);
  }

  const names = new Set<string>();
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const t of file.tensors) {
    if (names.has(t.name)) throw new InvalidArgumentError(`GGUF tensor name ${t.name} is used twice.`);
    names.add(t.name);
    const nameBytes = new TextEncoder().encode(t.name).byteLength;
    if (nameBytes === 0 || nameBytes > MAX_TENSOR_NAME_BYTES) {
      throw new InvalidArgumentError(`GGUF tensor name ${JSON.stringify(t.name)} must be 1 to ${MAX_TENSOR_NAME_BYTES} bytes.`);
    }
    const data = tensorBytes(t);
    datas.push(data);
    sink.string(t.name);
    sink.u32(t.dims.length);
    for (const d of t.dims) sink.u64(d);
    sink.u32(t.type ?? GGML_TYPE.F32);
    sink.u64(offset);
    offset = alignOffset(offset + data.byteLength, alignment);
  }

  if (file.tensors.length > 0) sink.padTo(alignment);
  for (const data of datas) {
    sink.push(data);
    sink.padTo(alignment);
  }
  return sink.concat();
}

/**
 * Writes a GGUF file atomically (temp file + rename); see `encodeGguf`.
 *
 * @example await writeGguf('out.gguf', { metadata, tensors });
 */
export async function writeGguf(target: string, file: GgufToWrite): Promise<void> {
  await atomicWrite(target, encodeGguf(file));
}
