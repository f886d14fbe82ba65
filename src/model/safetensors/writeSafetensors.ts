import { atomicWrite } from '../../util/atomicWrite.js';

export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
}

/**
 * Encodes float32 tensors as a safetensors file (8-byte aligned header, as the reference writer does).
 *
 * @example const bytes = encodeSafetensors({ 'layers.3': { shape: [256], data } }, { format: 'pt' });
 */
export function encodeSafetensors(tensors: Record<string, TensorToWrite>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name];
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new Error(`tensor ${name}: shape ${JSON.stringify(t.shape)} does not match ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

/** Writes float32 tensors to a safetensors file atomically. */
export async function writeSafetensors(file: string, tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Promise<void> {
  await atomicWrite(file, encodeSafetensors(tensors, metadata));
}
