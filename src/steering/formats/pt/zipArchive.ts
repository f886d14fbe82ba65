/**
 * The zip container of PyTorch's serialization (`torch.save` since 1.6): stored (uncompressed)
 * entries under one folder named after the archive, each entry's data 64-byte aligned by padding
 * its local extra field with an `FB` record, as `caffe2/serialize/inline_container.cc` does.
 *
 * Only what `.pt` files need: no encryption, no multi-disk archives, no zip64 beyond reading
 * its size and offset fields. Entries compressed with deflate are inflated (PyTorch never writes
 * them, but a file re-zipped by a user may hold them).
 */
import { inflateRawSync } from 'node:zlib';
import { TorchPtError } from './TorchPtError.js';

/** One entry of a zip archive, its data as stored (inflated when it was deflated). */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const EOCD_SIG = 0x06054b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
/** PyTorch aligns every record's data to this many bytes (`kFieldAlignment`). */
export const TORCH_FIELD_ALIGNMENT = 64;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 (the zip / PNG polynomial).
 *
 * @example crc32(new TextEncoder().encode('123456789')) === 0xcbf43926;
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Reads every entry of a zip archive held in memory. Sizes and offsets come from the central
 * directory (PyTorch writes zeros in the local headers and a data descriptor after the data);
 * each entry's CRC is checked. `where` names the file in errors.
 *
 * @example const entries = readZip(await fs.readFile('evil_response_avg_diff.pt'), 'evil_response_avg_diff.pt');
 */
export function readZip(buf: Uint8Array, where: string): ZipEntry[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fail = (what: string): never => {
    throw new TorchPtError(`${where} is not a readable PyTorch zip archive: ${what}. Re-save it with torch.save (PyTorch ≥ 1.6) or re-download it.`);
  };
  if (buf.length < 22 || view.getUint32(0, true) !== LOCAL_SIG)
    fail('it does not start with a zip local header (a legacy pre-1.6 torch.save file or not a .pt at all)');
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record (the file is truncated)');
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== ZIP64_LOCATOR_SIG) fail('zip64 sizes without a zip64 locator');
    const z64 = safeNumber(view.getBigUint64(loc + 8, true), fail);
    if (z64 + 56 > buf.length || view.getUint32(z64, true) !== ZIP64_EOCD_SIG) fail('a zip64 locator that points nowhere');
    count = safeNumber(view.getBigUint64(z64 + 32, true), fail);
    cdSize = safeNumber(view.getBigUint64(z64 + 40, true), fail);
    cdOffset = safeNumber(view.getBigUint64(z64 + 48, true), fail);
  }
  if (cdOffset + cdSize > buf.length) fail('the central directory lies beyond the end of the file (truncated)');
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let p = cdOffset;
  for (let e = 0; e < count; e++) {
    if (p + 46 > buf.length || view.getUint32(p, true) !== CENTRAL_SIG) fail(`central directory entry ${e} is damaged`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let csize = view.getUint32(p + 20, true);
    let usize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let local = view.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > buf.length) fail(`central directory entry ${e} runs past the end of the file`);
    const name = Buffer.from(buf.subarray(p + 46, p + 46 + nameLen)).toString('utf8');
    // zip64 extended information: the fields that read 0xffffffff, in this order
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = view.getUint16(x, true);
      const len = view.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        const next = (): number => {
          if (q + 8 > x + 4 + len) fail(`entry ${name} has a short zip64 field`);
          const v = safeNumber(view.getBigUint64(q, true), fail);
          q += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = next();
        if (csize === 0xffffffff) csize = next();
        if (local === 0xffffffff) local = next();
      }
      x += 4 + len;
    }
    if (flags & 1) fail(`entry ${name} is encrypted`);
    if (names.has(name)) fail(`entry ${name} appears twice`);
    names.add(name);
    if (local + 30 > buf.length || view.getUint32(local, true) !== LOCAL_SIG) fail(`the local header of ${name} is missing`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + csize > buf.length) fail(`the data of ${name} runs past the end of the file (truncated)`);
    const raw = buf.subarray(start, start + csize);
    let data: Uint8Array;
    if (method === 0) {
      if (csize !== usize) fail(`stored entry ${name} has different stored and real sizes`);
      data = raw;
    } else if (method === 8) {
      try {
        data = new Uint8Array(inflateRawSync(raw, { maxOutputLength: Math.max(1, usize) }));
      } catch (err) {
        fail(`entry ${name} does not inflate (${(err as Error).message})`);
      }
      if (data!.length !== usize) fail(`entry ${name} inflates to ${data!.length} bytes, not ${usize}`);
    } else {
      fail(`entry ${name} uses compression method ${method} (only stored and deflate are read)`);
    }
    if (crc32(data!) !== crc) fail(`entry ${name} fails its CRC check (the file is damaged)`);
    entries.push({ name, data: data! });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function safeNumber(v: bigint, fail: (what: string) => never): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('a zip64 field too large to address');
  return Number(v);
}

/**
 * Writes stored entries as PyTorch's writer does: each entry's data starts on a 64-byte boundary
 * (padding carried by an `FB` extra field in the local header), names are UTF-8, the local
 * header carries the real CRC and sizes (no data descriptor), DOS date 1980-01-01. Archives
 * over 4 GiB are refused (zip64 is not written).
 *
 * @example const bytes = writeZip([{ name: 'archive/version', data: new TextEncoder().encode('3\n') }]);
 */
export function writeZip(entries: ZipEntry[]): Uint8Array {
  const locals: { name: Buffer; data: Uint8Array; crc: number; offset: number; pad: number }[] = [];
  let size = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const headerEnd = size + 30 + name.length + 4; // the FB field's own 4 bytes
    const pad = (TORCH_FIELD_ALIGNMENT - (headerEnd % TORCH_FIELD_ALIGNMENT)) % TORCH_FIELD_ALIGNMENT;
    locals.push({ name, data: e.data, crc: crc32(e.data), offset: size, pad });
    size = headerEnd + pad + e.data.length;
  }
  const cdOffset = size;
  for (const l of locals) size += 46 + l.name.length;
  const cdSize = size - cdOffset;
  size += 22;
  if (size > 0xfffffffe || entries.length > 0xfffe)
    throw new TorchPtError('The archive would exceed 4 GiB or 65,534 entries, which this writer does not support (no zip64).');
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  const FLAGS = 0x0800; // UTF-8 names
  for (const l of locals) {
    let p = l.offset;
    v.setUint32(p, LOCAL_SIG, true);
    v.setUint16(p + 4, 20, true); // version needed: 2.0
    v.setUint16(p + 6, FLAGS, true);
    v.setUint16(p + 8, 0, true); // stored
    v.setUint16(p + 10, 0, true); // time 00:00
    v.setUint16(p + 12, 0x21, true); // date 1980-01-01
    v.setUint32(p + 14, l.crc, true);
    v.setUint32(p + 18, l.data.length, true);
    v.setUint32(p + 22, l.data.length, true);
    v.setUint16(p + 26, l.name.length, true);
    v.setUint16(p + 28, 4 + l.pad, true);
    out.set(l.name, p + 30);
    p += 30 + l.name.length;
    out[p] = 0x46; // 'F'
    out[p + 1] = 0x42; // 'B'
    v.setUint16(p + 2, l.pad, true);
    out.fill(0x5a, p + 4, p + 4 + l.pad); // 'Z', as PyTorch pads
    out.set(l.data, p + 4 + l.pad);
  }
  let p = cdOffset;
  for (const l of locals) {
    v.setUint32(p, CENTRAL_SIG, true);
    v.setUint16(p + 4, 20, true); // made by: 2.0, MS-DOS
    v.setUint16(p + 6, 20, true);
    v.setUint16(p + 8, FLAGS, true);
    v.setUint16(p + 10, 0, true);
    v.setUint16(p + 12, 0, true);
    v.setUint16(p + 14, 0x21, true);
    v.setUint32(p + 16, l.crc, true);
    v.setUint32(p + 20, l.data.length, true);
    v.setUint32(p + 24, l.data.length, true);
    v.setUint16(p + 28, l.name.length, true);
    // extra 0, comment 0, disk 0, internal attributes 0, external attributes 0
    v.setUint32(p + 42, l.offset, true);
    out.set(l.name, p + 46);
    p += 46 + l.name.length;
  }
  v.setUint32(p, EOCD_SIG, true);
  v.setUint16(p + 8, locals.length, true);
  v.setUint16(p + 10, locals.length, true);
  v.setUint32(p + 12, cdSize, true);
  v.setUint32(p + 16, cdOffset, true);
  return out;
}
