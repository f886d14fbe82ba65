/**
 * PyTorch's `.pt` files (the zip serialization `torch.save` writes by default since 1.6), read
 * and written without Python: `<archive>/data.pkl` (a protocol-2 pickle whose tensors are
 * `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict())`
 * with storages as persistent ids `('storage', torch.FloatStorage, key, 'cpu', numel)`),
 * `<archive>/data/<key>` (each storage's raw bytes), `<archive>/byteorder` and
 * `<archive>/version` (`3`). Layout checked against `torch/serialization.py` (`_save`,
 * `_load`) and `caffe2/serialize/inline_container.cc` (64-byte aligned records); a file written
 * by PyTorch 1.13 is a test fixture (test/fixtures/pt/).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { toFloat32 } from '../../../model/safetensors/dtypes.js';
import { atomicWrite } from '../../../util/atomicWrite.js';
import { TorchPtError } from './TorchPtError.js';
import { PyTuple, StorageRef, TensorRef, restrictedUnpickle, type PickleKey, type PickleValue, type PtDtype } from './restrictedUnpickle.js';
import { readZip, writeZip, type ZipEntry } from './zipArchive.js';

/**
 * A tensor read from (or to be written to) a `.pt` file, as contiguous float32 values in
 * row-major order. `dtype` is the storage's dtype in the file (half and bfloat16 are widened).
 *
 * @example const t = new PtTensor([2, 3], Float32Array.of(1, 2, 3, 4, 5, 6)); t.row(1); // [4, 5, 6]
 */
export class PtTensor {
  constructor(
    readonly shape: number[],
    readonly data: Float32Array,
    readonly dtype: PtDtype = 'float32',
  ) {
    if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new TorchPtError(`A tensor of shape [${shape.join(', ')}] cannot hold ${data.length} values.`);
  }

  /** Row i of a 2-D tensor (a view). */
  row(i: number): Float32Array {
    if (this.shape.length !== 2 || i < 0 || i >= this.shape[0])
      throw new TorchPtError(`row ${i} of a tensor of shape [${this.shape.join(', ')}] does not exist.`);
    return this.data.subarray(i * this.shape[1], (i + 1) * this.shape[1]);
  }
}

/** What a `.pt` holds: tensors, possibly inside lists, tuples (read as arrays) and dicts. */
export type PtValue = PtTensor | null | boolean | number | string | PtValue[] | Map<PickleKey, PtValue>;

const MAX_TENSOR_ELEMENTS = 1 << 28;

/**
 * Decodes a `.pt` archive held in memory. Tensors become `PtTensor`s (strided views copied out
 * contiguous, big-endian files swapped); tuples and lists become arrays, dicts (and
 * OrderedDicts) `Map`s. Throws `TorchPtError` for anything that is not plain data.
 *
 * @example const v = decodeTorchPt(await fs.readFile('evil_response_avg_diff.pt'), 'evil_response_avg_diff.pt');
 */
export function decodeTorchPt(bytes: Uint8Array, where: string): PtValue {
  const entries = readZip(bytes, where);
  const first = entries[0]?.name ?? '';
  const slash = first.indexOf('/');
  if (slash <= 0) throw new TorchPtError(`${where}: the first zip entry "${first}" is not inside an archive folder, as torch.save writes it.`);
  const prefix = first.slice(0, slash + 1);
  const byName = new Map(entries.filter((e) => e.name.startsWith(prefix)).map((e) => [e.name.slice(prefix.length), e.data] as const));
  const pkl = byName.get('data.pkl');
  if (!pkl)
    throw new TorchPtError(
      `${where}: the archive has no ${prefix}data.pkl; it is a zip file but not one torch.save wrote (a TorchScript module or another format?).`,
    );
  const version = byName.get('.data/version') ?? byName.get('version');
  if (version) {
    const v = Number(Buffer.from(version).toString('latin1').trim());
    if (!Number.isInteger(v) || v < 1 || v > 20)
      throw new TorchPtError(`${where}: unknown archive version "${Buffer.from(version).toString('latin1').trim()}".`);
  }
  const order = byName.get('byteorder');
  const byteorder = order ? Buffer.from(order).toString('latin1') : 'little';
  if (byteorder !== 'little' && byteorder !== 'big') throw new TorchPtError(`${where}: byteorder record says "${byteorder}" (little or big expected).`);
  const root = restrictedUnpickle(pkl, `${where}: ${prefix}data.pkl`);
  const cache = new Map<StorageRef, Float32Array>();
  const storage = (s: StorageRef): Float32Array => {
    let f = cache.get(s);
    if (f) return f;
    const raw = byName.get(`data/${s.key}`);
    if (!raw) throw new TorchPtError(`${where}: the pickle names storage ${s.key} but the archive has no ${prefix}data/${s.key}.`);
    if (raw.length !== s.numel * s.elementBytes) {
      throw new TorchPtError(
        `${where}: storage ${s.key} should hold ${s.numel} ${s.dtype} values (${s.numel * s.elementBytes} bytes) but has ${raw.length} bytes.`,
      );
    }
    let le = raw;
    if (byteorder === 'big' && s.elementBytes > 1) {
      le = raw.slice();
      for (let i = 0; i < le.length; i += s.elementBytes) le.subarray(i, i + s.elementBytes).reverse();
    }
    f = toFloat32(le, ({ float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64' } as const)[s.dtype]);
    cache.set(s, f);
    return f;
  };
  const tensor = (t: TensorRef): PtTensor => {
    const numel = t.size.reduce((a, b) => a * b, 1);
    if (numel > MAX_TENSOR_ELEMENTS)
      throw new TorchPtError(`${where}: a tensor of shape [${t.size.join(', ')}] is larger than this reader allows (${MAX_TENSOR_ELEMENTS} values).`);
    if (numel === 0) return new PtTensor(t.size, new Float32Array(0), t.storage.dtype);
    const last = t.offset + t.size.reduce((acc, n, d) => acc + (n - 1) * t.stride[d], 0);
    if (last >= t.storage.numel)
      throw new TorchPtError(`${where}: a tensor of shape [${t.size.join(', ')}] reaches element ${last} of a storage of ${t.storage.numel}.`);
    const src = storage(t.storage);
    const out = new Float32Array(numel);
    const dims = t.size.length;
    const contiguous = t.size.every((_, d) => t.size[d] === 1 || t.stride[d] === t.size.slice(d + 1).reduce((a, b) => a * b, 1));
    if (contiguous) {
      out.set(src.subarray(t.offset, t.offset + numel));
    } else {
      const idx = new Array<number>(dims).fill(0);
      for (let i = 0; i < numel; i++) {
        let at = t.offset;
        for (let d = 0; d < dims; d++) at += idx[d] * t.stride[d];
        out[i] = src[at];
        for (let d = dims - 1; d >= 0; d--) {
          if (++idx[d] < t.size[d]) break;
          idx[d] = 0;
        }
      }
    }
    return new PtTensor(t.size, out, t.storage.dtype);
  };
  const convert = (v: PickleValue): PtValue => {
    if (v instanceof TensorRef) return tensor(v);
    if (v instanceof PyTuple) return v.items.map(convert);
    if (Array.isArray(v)) return v.map(convert);
    if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, convert(x)]));
    if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
    throw new TorchPtError(`${where}: the pickle holds a bare ${v instanceof StorageRef ? 'storage' : 'class reference'}, not a tensor.`);
  };
  return convert(root);
}

/**
 * Reads a `.pt` file; see `decodeTorchPt`.
 *
 * @example const v = await readTorchPt('evil_response_avg_diff.pt'); // PtTensor [37, 2560]
 */
export async function readTorchPt(file: string): Promise<PtValue> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new TorchPtError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}.`);
  }
  return decodeTorchPt(bytes, file);
}

/** Writes the opcodes of a protocol-2 pickle, as Python's pickler would for the same value. */
class PickleWriter {
  private parts: number[] = [];
  private storages: Float32Array[] = [];

  constructor() {
    this.parts.push(0x80, 2); // PROTO 2
  }

  finish(): { pkl: Uint8Array; storages: Float32Array[] } {
    this.parts.push(0x2e); // STOP
    return { pkl: Uint8Array.from(this.parts), storages: this.storages };
  }

  private bytes(b: Uint8Array | number[]): void {
    for (const x of b) this.parts.push(x);
  }
  private global(module: string, name: string): void {
    this.parts.push(0x63);
    this.bytes(Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }
  private str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.parts.push(0x58, b.length & 0xff, (b.length >>> 8) & 0xff, (b.length >>> 16) & 0xff, b.length >>> 24); // BINUNICODE
    this.bytes(b);
  }
  private int(n: number): void {
    if (n >= 0 && n < 256) this.parts.push(0x4b, n);
    else if (n >= 0 && n < 65536) this.parts.push(0x4d, n & 0xff, n >>> 8);
    else if (n >= -(2 ** 31) && n < 2 ** 31) {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, n, true);
      this.parts.push(0x4a, ...b);
    } else {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigInt64(0, BigInt(n), true);
      this.parts.push(0x8a, 8, ...b); // LONG1, two's complement little-endian
    }
  }
  private tuple(write: (() => void)[]): void {
    if (write.length === 0) return void this.parts.push(0x29);
    if (write.length > 3) this.parts.push(0x28);
    for (const w of write) w();
    this.parts.push(write.length > 3 ? 0x74 : [0x85, 0x86, 0x87][write.length - 1]);
  }

  value(v: PtValue): void {
    if (v instanceof PtTensor) return this.tensor(v);
    if (v === null) return void this.parts.push(0x4e);
    if (v === true) return void this.parts.push(0x88);
    if (v === false) return void this.parts.push(0x89);
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) return this.int(v);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v, false);
      return void this.parts.push(0x47, ...b); // BINFLOAT
    }
    if (typeof v === 'string') return this.str(v);
    if (Array.isArray(v)) {
      this.parts.push(0x5d); // EMPTY_LIST
      if (v.length === 0) return;
      this.parts.push(0x28);
      for (const x of v) this.value(x);
      return void this.parts.push(0x65); // APPENDS
    }
    if (v instanceof Map) {
      this.parts.push(0x7d); // EMPTY_DICT
      if (v.size === 0) return;
      this.parts.push(0x28);
      for (const [k, x] of v) {
        if (k !== null && typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'boolean')
          throw new TorchPtError('A dict key must be a string or a number.');
        this.value(k);
        this.value(x);
      }
      return void this.parts.push(0x75); // SETITEMS
    }
    throw new TorchPtError(`Cannot write a value of type ${typeof v} into a .pt file.`);
  }

  private tensor(t: PtTensor): void {
    if (!t.data.every(Number.isFinite)) throw new TorchPtError(`A tensor of shape [${t.shape.join(', ')}] contains NaN or Infinity; it is not written.`);
    const key = String(this.storages.length);
    this.storages.push(t.data);
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.parts.push(0x28); // MARK: the arguments
    this.tuple([
      () => this.str('storage'),
      () => this.global('torch', 'FloatStorage'),
      () => this.str(key),
      () => this.str('cpu'),
      () => this.int(t.data.length),
    ]);
    this.parts.push(0x51); // BINPERSID
    this.int(0); // storage offset
    this.tuple(t.shape.map((n) => () => this.int(n)));
    this.tuple(stride.map((n) => () => this.int(n)));
    this.parts.push(0x89); // requires_grad False
    this.global('collections', 'OrderedDict');
    this.parts.push(0x29, 0x52); // () REDUCE: backward hooks
    this.parts.push(0x74, 0x52); // TUPLE REDUCE
  }
}

/**
 * Encodes tensors (a tensor, or arrays / Maps / string-keyed objects of them) as a `.pt` archive
 * that `torch.load` (also with `weights_only=True`) reads: float32 storages, one per tensor,
 * `archive/data.pkl` in protocol 2, `byteorder`, `data/<k>`, `version`, each record 64-byte aligned.
 *
 * @example const bytes = encodeTorchPt(new PtTensor([29, 1024], flat), 'formal_response_avg_diff');
 */
export function encodeTorchPt(value: PtValue | Record<string, PtTensor>, archiveName = 'archive'): Uint8Array {
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(archiveName)) throw new TorchPtError(`Archive name "${archiveName}" must be letters, digits, '_', '.' or '-'.`);
  const root: PtValue =
    value !== null && typeof value === 'object' && !(value instanceof PtTensor) && !Array.isArray(value) && !(value instanceof Map)
      ? new Map(Object.entries(value))
      : (value as PtValue);
  const w = new PickleWriter();
  w.value(root);
  const { pkl, storages } = w.finish();
  const enc = (s: string) => new TextEncoder().encode(s);
  const entries: ZipEntry[] = [
    { name: `${archiveName}/data.pkl`, data: pkl },
    { name: `${archiveName}/byteorder`, data: enc('little') },
    ...storages.map((s, i) => ({ name: `${archiveName}/data/${i}`, data: new Uint8Array(s.buffer, s.byteOffset, s.byteLength) })),
    { name: `${archiveName}/version`, data: enc('3\n') },
  ];
  return writeZip(entries);
}

/**
 * Writes a `.pt` file atomically; the archive folder is named after the file, as torch.save does.
 *
 * @example await writeTorchPt('formal.pt', new PtTensor([29, 1024], flat));
 */
export async function writeTorchPt(file: string, value: PtValue | Record<string, PtTensor>): Promise<void> {
  const base =
    path
      .basename(file)
      .replace(/\.[^.]*$/, '')
      .replace(/[^A-Za-z0-9_.-]/g, '_') || 'archive';
  await atomicWrite(file, encodeTorchPt(value, base.slice(0, 100)));
}
