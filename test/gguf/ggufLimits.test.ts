import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, PersonaFileError } from '../../src/errors.js';
import { GGUF_LIMITS, MAX_GGUF_FILE_BYTES, decodeGguf, readGguf } from '../../src/gguf/decodeGguf.js';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeGguf } from '../../src/gguf/encodeGguf.js';
import { GGUF_VALUE_TYPE } from '../../src/gguf/ggufTypes.js';

/** A GGUF v3 header with no tensors and one metadata entry whose value bytes follow `valueHead`. */
function oneEntry(key: string, valueHead: number[][], tail: Uint8Array = new Uint8Array(0)): Uint8Array {
  const parts: Uint8Array[] = [];
  const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
  const u64 = (v: number) => new Uint8Array(new BigUint64Array([BigInt(v)]).buffer);
  parts.push(new TextEncoder().encode('GGUF'), u32(3), u64(0), u64(1), u64(key.length), new TextEncoder().encode(key));
  for (const [kind, v] of valueHead) parts.push(kind === 4 ? u32(v) : u64(v));
  parts.push(tail);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('GGUF decoding limits', () => {
  it('refuses arrays of arrays, as ggml does, and nesting 100,000 deep does not overflow the stack', () => {
    const nested = oneEntry('x', [
      [4, GGUF_VALUE_TYPE.array],
      [4, GGUF_VALUE_TYPE.array],
      [8, 1],
    ]);
    expect(() => decodeGguf(nested, 'nested.gguf')).toThrow(PersonaFileError);
    expect(() => decodeGguf(nested, 'nested.gguf')).toThrow(/nested.gguf: "x" at offset \d+ is an array of arrays, which GGUF does not allow/);
    const deep: number[][] = [[4, GGUF_VALUE_TYPE.array]];
    for (let i = 0; i < 100_000; i++) deep.push([4, GGUF_VALUE_TYPE.array], [8, 1]);
    expect(() => decodeGguf(oneEntry('x', deep), 'deep.gguf')).toThrow(/deep.gguf: .* is an array of arrays/);
    expect(() => encodeGguf({ metadata: new Map([['x', { type: 'array', itemType: 'array', value: [] }]]), tensors: [] })).toThrow(InvalidArgumentError);
  });

  it('refuses a 50 MB metadata array at once, without building 50 million values', () => {
    const n = 50_000_000;
    const bytes = oneEntry(
      'big',
      [
        [4, GGUF_VALUE_TYPE.array],
        [4, GGUF_VALUE_TYPE.uint8],
        [8, n],
      ],
      new Uint8Array(n),
    );
    const before = process.memoryUsage().heapUsed;
    expect(() => decodeGguf(bytes, 'big.gguf')).toThrow(
      new RegExp(`big.gguf: "big" is an array of ${n} items; this reader accepts at most ${GGUF_LIMITS.MAX_ARRAY_ITEMS}`),
    );
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 2 ** 20);
  });

  it('refuses counts that cannot fit in the bytes left before looping over them', () => {
    const arr = oneEntry(
      'a',
      [
        [4, GGUF_VALUE_TYPE.array],
        [4, GGUF_VALUE_TYPE.uint32],
        [8, 1000],
      ],
      new Uint8Array(40),
    );
    expect(() => decodeGguf(arr, 'short.gguf')).toThrow(
      /short.gguf: file is truncated or corrupt: the length of "a" is 1000, but 1000 entries need at least 4000 bytes and only 40 are left/,
    );
    const header = new Uint8Array(24);
    header.set(new TextEncoder().encode('GGUF'));
    new DataView(header.buffer).setUint32(4, 3, true);
    new DataView(header.buffer).setBigUint64(16, 2n ** 40n, true);
    expect(() => decodeGguf(header, 'count.gguf')).toThrow(/count.gguf: file is truncated or corrupt: the metadata count is 1099511627776/);
  });

  it('still reads a vocabulary-sized string array', () => {
    const tokens = Array.from({ length: 150_000 }, (_, i) => ({ type: 'string' as const, value: `t${i}` }));
    const g = decodeGguf(encodeGguf({ metadata: new Map([['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }]]), tensors: [] }));
    const v = g.metadata.get('tokenizer.ggml.tokens');
    expect(v?.type === 'array' && v.value.length).toBe(150_000);
  });

  it('refuses a file larger than a control vector can be (a sparse 600 MiB file) before reading it, and a folder', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-gguf-'));
    const file = path.join(dir, 'model.gguf');
    await fs.writeFile(file, 'GGUF');
    await fs.truncate(file, MAX_GGUF_FILE_BYTES + 2 ** 20);
    await expect(readGguf(file)).rejects.toThrow(
      /model.gguf is 513 MiB; a GGUF control vector is at most a few MB \(this reader stops at 512 MiB\). Is it a model file\?/,
    );
    await expect(readGguf(dir)).rejects.toThrow(/is not a regular file/);
    await expect(readGguf(path.join(dir, 'none.gguf'))).rejects.toThrow(PersonaFileError);
    await fs.rm(dir, { recursive: true, force: true });
  });
});
