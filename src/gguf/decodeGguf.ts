import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PersonaFileError } from '../errors.js';
import {
  GGML_ELEMENT_BYTES,
  GGML_TYPE,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  alignOffset,
  ggmlTypeName,
  ggufValueTypeName,
  type GgufValue,
  type GgufValueTypeName,
} from './ggufTypes.js';

/**
 * One entry of a GGUF file's tensor infos.
 *
 * @example const t = decodeGguf(bytes).tensors[0]; // { name: 'direction.1', dims: [1024], type: 0, offset: 0, byteLength: 4096 }
 */
export interface GgufTensorInfo {
  name: string;
  /** Dimensions in ggml order: `dims[0]` varies fastest (numpy shape reversed). */
  dims: number[];
  /** ggml type id (`GGML_TYPE.F32` = 0). */
  type: number;
  /** Byte offset of the data, relative to the start of the data section. */
  offset: number;
  /** Bytes of data, or undefined for a quantised type this module does not size. */
  byteLength: number | undefined;
}

/**
 * A parsed GGUF file held in memory.
 *
 * @example const g: GgufFile = await readGguf('happy.gguf');
 */
export interface GgufFile {
  /** Where the bytes came from, for messages (a file's base name). */
  source: string;
  version: number;
  /** `general.alignment`, or 32 when absent. */
  alignment: number;
  /** Metadata in file order. */
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Absolute byte offset of the data section. */
  dataOffset: number;
  bytes: Uint8Array;
}

const MAX_DIMS = 4;

/**
 * Bounds on the work metadata may ask for: one array holds at most `MAX_ARRAY_ITEMS` values and a
 * file at most `MAX_METADATA_VALUES` in all (a model's vocabulary, ~262k tokens, fits; a 50 MB
 * array of bytes is refused at once instead of costing gigabytes of objects). Counts are also
 * checked against the bytes left in the file before anything is read.
 *
 * @example GGUF_LIMITS.MAX_ARRAY_ITEMS; // 1048576
 */
export const GGUF_LIMITS = { MAX_ARRAY_ITEMS: 1 << 20, MAX_METADATA_VALUES: 1 << 21 } as const;

/** The fewest bytes one value of a type takes in the file. */
const MIN_VALUE_BYTES: Record<GgufValueTypeName, number> = {
  uint8: 1,
  int8: 1,
  bool: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  uint64: 8,
  int64: 8,
  float64: 8,
  string: 8,
  array: 12,
};

/** Reads little-endian fields and turns every overrun into one clear "truncated" error. */
class Cursor {
  private readonly view: DataView;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  pos = 0;
  /** Metadata values read so far (array items count one each). */
  values = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes not yet read. */
  get left(): number {
    return this.bytes.byteLength - this.pos;
  }

  /** Refuses a count of entries that cannot fit in the bytes left, before looping over them. */
  count(what: string, n: number, minBytes: number): void {
    if (n * minBytes > this.left) {
      this.fail(`file is truncated or corrupt: ${what} is ${n}, but ${n} entries need at least ${n * minBytes} bytes and only ${this.left} are left.`);
    }
  }

  fail(message: string): never {
    throw new PersonaFileError(`${this.source}: ${message}`);
  }

  private need(n: number, what: string): number {
    const at = this.pos;
    if (n > this.bytes.byteLength - at) {
      this.fail(`file is truncated: reading ${what} needs ${n} bytes at offset ${at}, but the file has ${this.bytes.byteLength} bytes.`);
    }
    this.pos += n;
    return at;
  }

  u8(what: string): number {
    return this.view.getUint8(this.need(1, what));
  }
  u32(what: string): number {
    return this.view.getUint32(this.need(4, what), true);
  }
  /** A u64 that must fit a JS number exactly (counts, lengths, offsets). */
  size(what: string): number {
    const v = this.view.getBigUint64(this.need(8, what), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is ${v}, which no valid file has; the file is corrupt.`);
    return Number(v);
  }
  string(what: string): string {
    const len = this.size(`the length of ${what}`);
    const at = this.need(len, what);
    try {
      return this.utf8.decode(this.bytes.subarray(at, at + len));
    } catch {
      return this.fail(`${what} at offset ${at} is not valid UTF-8; the file is corrupt.`);
    }
  }

  value(type: GgufValueTypeName, what: string): GgufValue {
    const v = this.view;
    if (++this.values > GGUF_LIMITS.MAX_METADATA_VALUES) {
      this.fail(`the metadata holds more than ${GGUF_LIMITS.MAX_METADATA_VALUES} values; this reader stops there (a control vector needs a handful).`);
    }
    switch (type) {
      case 'uint8':
        return { type, value: v.getUint8(this.need(1, what)) };
      case 'int8':
        return { type, value: v.getInt8(this.need(1, what)) };
      case 'uint16':
        return { type, value: v.getUint16(this.need(2, what), true) };
      case 'int16':
        return { type, value: v.getInt16(this.need(2, what), true) };
      case 'uint32':
        return { type, value: v.getUint32(this.need(4, what), true) };
      case 'int32':
        return { type, value: v.getInt32(this.need(4, what), true) };
      case 'float32':
        return { type, value: v.getFloat32(this.need(4, what), true) };
      case 'float64':
        return { type, value: v.getFloat64(this.need(8, what), true) };
      case 'uint64':
        return { type, value: v.getBigUint64(this.need(8, what), true) };
      case 'int64':
        return { type, value: v.getBigInt64(this.need(8, what), true) };
      case 'bool': {
        const b = v.getUint8(this.need(1, what));
        if (b > 1) this.fail(`${what} is a bool stored as ${b}; only 0 and 1 are valid. The file is corrupt.`);
        return { type, value: b === 1 };
      }
      case 'string':
        return { type, value: this.string(what) };
      case 'array': {
        const at = this.pos;
        const itemType = this.valueType(`the item type of ${what}`);
        // As ggml: arrays of arrays are not valid GGUF (and would let a file nest without bound).
        if (itemType === 'array') this.fail(`${what} at offset ${at} is an array of arrays, which GGUF does not allow; the file is corrupt.`);
        const n = this.size(`the length of ${what}`);
        if (n > GGUF_LIMITS.MAX_ARRAY_ITEMS) this.fail(`${what} is an array of ${n} items; this reader accepts at most ${GGUF_LIMITS.MAX_ARRAY_ITEMS}.`);
        this.count(`the length of ${what}`, n, MIN_VALUE_BYTES[itemType]);
        const items: GgufValue[] = [];
        for (let i = 0; i < n; i++) items.push(this.value(itemType, `${what}[${i}]`));
        return { type, itemType, value: items };
      }
    }
  }

  valueType(what: string): GgufValueTypeName {
    const at = this.pos;
    const id = this.u32(what);
    const name = ggufValueTypeName(id);
    if (!name) this.fail(`${what} at offset ${at} has value type ${id}, which GGUF does not define (0–12); the file is corrupt.`);
    return name;
  }
}

/**
 * Parses a GGUF file (v2 or v3, little-endian) held in memory, validating the header, every
 * metadata value and every tensor info: bad magic, unsupported version, truncation, unknown value
 * types, duplicate keys or tensor names, a bad `general.alignment`, and tensor offsets that are
 * misaligned or run past the end of the file all raise a `PersonaFileError` naming the problem.
 * A file that lacks only the zero padding after its last tensor is accepted (every value is
 * there), although ggml's own loader, which reads the padded data size, refuses it. Arrays of
 * arrays are refused (as ggml does) and metadata work is bounded by `GGUF_LIMITS`.
 *
 * @example
 * const gguf = decodeGguf(bytes, 'happy.gguf');
 * gguf.metadata.get('general.architecture'); // { type: 'string', value: 'controlvector' }
 */
export function decodeGguf(bytes: Uint8Array, source = 'GGUF data'): GgufFile {
  const c: Cursor = new Cursor(bytes, source);
  if (bytes.byteLength < 4) c.fail(`file is truncated: ${bytes.byteLength} bytes, too short to be a GGUF file.`);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== GGUF_MAGIC) {
    const shown = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    c.fail(`not a GGUF file: it starts with bytes ${shown}, not "GGUF" (47 47 55 46).`);
  }
  c.pos = 4;
  const version = c.u32('the version');
  if ((version & 0xffff) === 0 && version !== 0) {
    c.fail(`GGUF version reads as ${version}: this is a big-endian GGUF file, which is not supported. Convert it to little-endian.`);
  }
  if (version === 1) c.fail('GGUF version 1 is not supported (it used 32-bit counts); re-export the file as GGUF v3.');
  if (version !== 2 && version !== GGUF_VERSION) {
    c.fail(`GGUF version ${version} is not supported; this reader reads versions 2 and 3.`);
  }
  const tensorCount = c.size('the tensor count');
  const kvCount = c.size('the metadata count');
  // A metadata entry is at least a key length, one key byte, a type and one value byte; a tensor
  // info at least a name length, one name byte, a dimension count, a type and an offset.
  c.count('the metadata count', kvCount, 8 + 1 + 4 + 1);
  c.count('the tensor count', tensorCount, 8 + 1 + 4 + 4 + 8);

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`metadata key ${i}`);
    if (key.length === 0) c.fail(`metadata key ${i} is empty; the file is corrupt.`);
    if (metadata.has(key)) c.fail(`metadata key "${key}" appears twice; the file is corrupt.`);
    const type = c.valueType(`the type of "${key}"`);
    metadata.set(key, c.value(type, `"${key}"`));
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignValue = metadata.get('general.alignment');
  if (alignValue) {
    if (alignValue.type !== 'uint32') c.fail(`general.alignment must be a uint32, but it is a ${alignValue.type}.`);
    alignment = alignValue.value;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) c.fail(`general.alignment is ${alignment}, which is not a power of two.`);
  }

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string(`the name of tensor ${i}`);
    if (names.has(name)) c.fail(`tensor name "${name}" appears twice; the file is corrupt.`);
    names.add(name);
    const nDims = c.u32(`the dimension count of ${name}`);
    if (nDims > MAX_DIMS) c.fail(`tensor ${name} has ${nDims} dimensions; GGUF allows at most ${MAX_DIMS}.`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.size(`dimension ${d} of ${name}`));
    const type = c.u32(`the type of ${name}`);
    const offset = c.size(`the data offset of ${name}`);
    const elementBytes = GGML_ELEMENT_BYTES[type];
    const byteLength = elementBytes === undefined ? undefined : dims.reduce((a, b) => a * b, 1) * elementBytes;
    tensors.push({ name, dims, type, offset, byteLength });
  }

  const dataOffset = tensorCount > 0 ? alignOffset(c.pos, alignment) : c.pos;
  const dataBytes = bytes.byteLength - dataOffset;
  for (const t of tensors) {
    if (t.offset % alignment !== 0) {
      c.fail(`tensor ${t.name} has data offset ${t.offset}, which is not a multiple of the alignment ${alignment}; the file is corrupt.`);
    }
    const end = t.offset + (t.byteLength ?? 0);
    if (dataBytes < 0 || end > dataBytes || (t.byteLength === undefined && t.offset >= dataBytes)) {
      c.fail(
        `file is truncated or corrupt: tensor ${t.name} (${ggmlTypeName(t.type)} [${t.dims.join(', ')}]) ends at byte ` +
          `${dataOffset + end} but the file has ${bytes.byteLength} bytes.`,
      );
    }
  }

  return { source, version, alignment, metadata, tensors, dataOffset, bytes };
}

/**
 * The largest GGUF file `readGguf` reads into memory by default: a control vector is a few MB
 * (80 layers × 8192 floats is 2.6 MB); a model file is refused before it is read.
 *
 * @example await readGguf(file, { maxBytes: 2 * MAX_GGUF_FILE_BYTES });
 */
export const MAX_GGUF_FILE_BYTES = 512 * 1024 * 1024;

/**
 * Reads and parses a GGUF file (see `decodeGguf`); a missing file, or one over `maxBytes`, is a
 * `PersonaFileError` too.
 *
 * @example const gguf = await readGguf('vectors/happy.gguf');
 */
export async function readGguf(file: string, opts: { maxBytes?: number } = {}): Promise<GgufFile> {
  const maxBytes = opts.maxBytes ?? MAX_GGUF_FILE_BYTES;
  let bytes: Uint8Array;
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw new PersonaFileError(`${file} is not a regular file.`);
    if (st.size > maxBytes) {
      throw new PersonaFileError(
        `${file} is ${(st.size / 2 ** 20).toFixed(0)} MiB; a GGUF control vector is at most a few MB (this reader stops at ${maxBytes / 2 ** 20} MiB). Is it a model file?`,
      );
    }
    bytes = await fs.readFile(file);
  } catch (err) {
    if (err instanceof PersonaFileError) throw err;
    throw new PersonaFileError(`Cannot read GGUF file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return decodeGguf(bytes, path.basename(file));
}

/**
 * The values of an F32 tensor, copied out of the file. Any other type is a `PersonaFileError`
 * that names it (this toolkit does not dequantise).
 *
 * @example const v = ggufTensorFloat32(gguf, gguf.tensors[0]); // Float32Array, dims product long
 */
export function ggufTensorFloat32(file: GgufFile, tensor: GgufTensorInfo): Float32Array {
  if (tensor.type !== GGML_TYPE.F32) {
    throw new PersonaFileError(`${file.source}: tensor ${tensor.name} is ${ggmlTypeName(tensor.type)}; only F32 tensors can be read.`);
  }
  const start = file.dataOffset + tensor.offset;
  const n = tensor.dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const view = new DataView(file.bytes.buffer, file.bytes.byteOffset + start, n * 4);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
