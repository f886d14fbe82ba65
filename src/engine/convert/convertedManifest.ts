import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, type Stats } from 'node:fs';
import type { ConvertedWeights, WeightsStamp } from './ConvertedWeights.js';

/**
 * Reads a conversion manifest: `{ manifest }` when it is there, of this format version and well
 * formed; `{ problem }` saying what is wrong when it is unreadable or malformed; `{}` when there is
 * none (or it is of another format version, whose folder is a different cache entry anyway).
 *
 * @example const { manifest, problem } = await readConvertedManifest('/cache/x/f32/manifest.json', 3);
 */
export async function readConvertedManifest(file: string, version: number): Promise<{ manifest?: ConvertedWeights; problem?: string }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    return { problem: `cannot be read (${(err as Error).message})` };
  }
  let m: ConvertedWeights;
  try {
    m = JSON.parse(text);
  } catch {
    return { problem: 'is not valid JSON' };
  }
  if (!m || typeof m !== 'object') return { problem: 'is not a JSON object' };
  if (m.formatVersion !== version) return {};
  const problem = manifestProblem(m);
  return problem ? { problem } : { manifest: m };
}

function manifestProblem(m: ConvertedWeights): string | null {
  if (typeof m.weightsFile !== 'string' || m.weightsFile !== 'weights.bin') return 'names no weights.bin';
  if (!Number.isSafeInteger(m.totalBytes) || m.totalBytes < 0) return 'has no valid totalBytes';
  if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) return 'has no sha256';
  const s = m.weightsStamp;
  if (!s || typeof s !== 'object' || ![s.size, s.mtimeMs, s.ctimeMs, s.ino].every((v) => typeof v === 'number')) return 'has no weights stamp';
  if (!m.tensors || typeof m.tensors !== 'object' || !m.linears || typeof m.linears !== 'object') return 'lists no tensors';
  for (const [name, t] of Object.entries(m.tensors)) {
    if (
      !t ||
      !Number.isSafeInteger(t.offset) ||
      !Number.isSafeInteger(t.length) ||
      t.offset < 0 ||
      t.length < 0 ||
      t.offset + t.length > m.totalBytes ||
      !Array.isArray(t.dims)
    ) {
      return `describes tensor ${name} outside the weights file`;
    }
  }
  return null;
}

/**
 * sha256 of a file, read in 4 MiB pieces.
 *
 * @example const hex = await hashFile('weights.bin');
 */
export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * A file's stamp: size, mtime, ctime and inode (any write, copy or restore changes one of them).
 *
 * @example stampOf(await fs.stat('weights.bin'));
 */
export function stampOf(st: Stats): WeightsStamp {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
}

/**
 * True when two stamps are of the same, unchanged file.
 *
 * @example sameStamp(stampOf(st), manifest.weightsStamp);
 */
export function sameStamp(a: WeightsStamp, b: WeightsStamp | undefined): boolean {
  return !!b && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}
