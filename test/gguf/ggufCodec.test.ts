import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, PersonaFileError } from '../../src/errors.js';
import { decodeGguf, ggufTensorFloat32 } from '../../src/gguf/decodeGguf.js';
import { encodeGguf } from '../../src/gguf/encodeGguf.js';
import { GGML_TYPE, type GgufValue } from '../../src/gguf/ggufTypes.js';

const every: [string, GgufValue][] = [
  ['t.u8', { type: 'uint8', value: 250 }],
  ['t.i8', { type: 'int8', value: -7 }],
  ['t.u16', { type: 'uint16', value: 65000 }],
  ['t.i16', { type: 'int16', value: -32000 }],
  ['t.u32', { type: 'uint32', value: 4_000_000_000 }],
  ['t.i32', { type: 'int32', value: -2_000_000_000 }],
  ['t.f32', { type: 'float32', value: 0.5 }],
  ['t.bool', { type: 'bool', value: true }],
  ['t.str', { type: 'string', value: 'héllo, ünïcode' }],
  ['t.u64', { type: 'uint64', value: 2n ** 63n + 5n }],
  ['t.i64', { type: 'int64', value: -(2n ** 62n) }],
  ['t.f64', { type: 'float64', value: Math.PI }],
  [
    't.arr',
    {
      type: 'array',
      itemType: 'string',
      value: [
        { type: 'string', value: 'a' },
        { type: 'string', value: '' },
      ],
    },
  ],
];

function small(alignment?: number): Uint8Array {
  const metadata = new Map<string, GgufValue>([['general.architecture', { type: 'string', value: 'test' }]]);
  if (alignment) metadata.set('general.alignment', { type: 'uint32', value: alignment });
  return encodeGguf({
    metadata,
    tensors: [
      { name: 'a', dims: [3], data: Float32Array.from([1, 2, 3]) },
      { name: 'b', dims: [2, 2], data: Float32Array.from([4, 5, 6, 7]) },
    ],
  });
}

describe('GGUF codec', () => {
  it('round-trips every metadata value type with its type kept', () => {
    const g = decodeGguf(encodeGguf({ metadata: new Map(every), tensors: [] }));
    expect(g.version).toBe(3);
    expect([...g.metadata]).toEqual(every);
    expect(g.tensors).toEqual([]);
  });

  it('aligns the data section and every tensor to general.alignment, 32 by default', () => {
    for (const alignment of [undefined, 64]) {
      const g = decodeGguf(small(alignment));
      const a = alignment ?? 32;
      expect(g.alignment).toBe(a);
      expect(g.dataOffset % a).toBe(0);
      expect(g.tensors.map((t) => t.offset)).toEqual([0, a]);
      expect(g.bytes.byteLength).toBe(g.dataOffset + 2 * a);
      expect(ggufTensorFloat32(g, g.tensors[1])).toEqual(Float32Array.from([4, 5, 6, 7]));
      expect(g.tensors[1].dims).toEqual([2, 2]);
    }
  });

  it('refuses an unsupported version, a big-endian file, and GGUF v1', () => {
    const withVersion = (v: number, littleEndian = true) => {
      const b = small().slice();
      new DataView(b.buffer).setUint32(4, v, littleEndian);
      return b;
    };
    expect(() => decodeGguf(withVersion(4))).toThrow(/version 4 is not supported/);
    expect(() => decodeGguf(withVersion(3, false))).toThrow(/big-endian/);
    expect(() => decodeGguf(withVersion(1))).toThrow(/version 1 is not supported/);
    expect(decodeGguf(withVersion(2)).version).toBe(2);
  });

  it('refuses a tensor offset that is misaligned or past the end of the file', () => {
    const b = small().slice();
    const g = decodeGguf(b);
    // The last tensor info ends with its u64 offset just before the padding to the data section.
    const infoEnd = b.indexOf(0x62, 40); // the name "b"
    const offsetPos = infoEnd + 1 + 4 + 16 + 4;
    const view = new DataView(b.buffer);
    expect(Number(view.getBigUint64(offsetPos, true))).toBe(g.tensors[1].offset);
    view.setBigUint64(offsetPos, 8n, true);
    expect(() => decodeGguf(b)).toThrow(/offset 8, which is not a multiple of the alignment 32/);
    view.setBigUint64(offsetPos, 4096n, true);
    expect(() => decodeGguf(b)).toThrow(PersonaFileError);
    expect(() => decodeGguf(b)).toThrow(/tensor b .* ends at byte/);
  });

  it('refuses unknown value types, bad bools, duplicate keys and a bad alignment', () => {
    const one = (key: string, v: GgufValue) => encodeGguf({ metadata: new Map([[key, v]]), tensors: [] });
    const typeAt = 24 + 8 + 3; // header, key length, "k.x"
    const unknown = one('k.x', { type: 'uint8', value: 1 }).slice();
    new DataView(unknown.buffer).setUint32(typeAt, 13, true);
    expect(() => decodeGguf(unknown)).toThrow(/value type 13/);
    const badBool = one('k.x', { type: 'bool', value: true }).slice();
    badBool[typeAt + 4] = 2;
    expect(() => decodeGguf(badBool)).toThrow(/bool stored as 2/);
    const twice = encodeGguf({
      metadata: new Map([
        ['k.a', { type: 'uint8', value: 1 }],
        ['k.b', { type: 'uint8', value: 1 }],
      ]),
      tensors: [],
    }).slice();
    twice[24 + (8 + 3 + 4 + 1) + 8 + 2] = 0x61; // after the first kv: rename k.b to k.a
    expect(() => decodeGguf(twice)).toThrow(/"k.a" appears twice/);
    // The writer refuses a bad alignment, so patch one in: 'general.alignment' is 17 bytes.
    const align24 = one('general.alignment', { type: 'uint32', value: 32 }).slice();
    new DataView(align24.buffer).setUint32(24 + 8 + 17 + 4, 24, true);
    expect(() => decodeGguf(align24)).toThrow(/general.alignment is 24, which is not a power of two/);
    const align64 = one('general.alignmenX', { type: 'uint64', value: 32n }).slice();
    align64[24 + 8 + 16] = 0x74; // X → t
    expect(() => decodeGguf(align64)).toThrow(/must be a uint32/);
  });

  it('refuses to write values out of range, mistyped array items and tensors whose data does not match dims', () => {
    expect(() => encodeGguf({ metadata: new Map([['k', { type: 'uint8', value: 256 }]]), tensors: [] })).toThrow(InvalidArgumentError);
    expect(() => encodeGguf({ metadata: new Map([['k', { type: 'array', itemType: 'uint8', value: [{ type: 'int8', value: 1 }] }]]), tensors: [] })).toThrow(
      /int8 in an array of uint8/,
    );
    expect(() => encodeGguf({ metadata: new Map(), tensors: [{ name: 't', dims: [4], data: new Float32Array(3) }] })).toThrow(/need 4 values/);
    expect(() => encodeGguf({ metadata: new Map(), tensors: [{ name: 't', dims: [4], type: GGML_TYPE.Q4_0, data: new Uint8Array(4) }] })).toThrow(
      /Q4_0 cannot be written/,
    );
    expect(() => encodeGguf({ metadata: new Map(), tensors: [{ name: 'x'.repeat(64), dims: [1], data: new Float32Array(1) }] })).toThrow(/1 to 63 bytes/);
  });
});
