/**
 * GGUF vocabulary, from the spec (ggml-org/ggml `docs/gguf.md`): metadata value types, the ggml
 * tensor types this toolkit can size, and the typed metadata value.
 */

/**
 * The file starts with the bytes `G G U F` (0x47 0x47 0x55 0x46).
 *
 * @example new TextDecoder().decode(bytes.subarray(0, 4)) === GGUF_MAGIC;
 */
export const GGUF_MAGIC = 'GGUF';
/**
 * The version this module writes. Version 2 has the same little-endian layout and is read too.
 *
 * @example decodeGguf(bytes).version === GGUF_VERSION;
 */
export const GGUF_VERSION = 3;
/**
 * Alignment of the data section and of every tensor when `general.alignment` is absent.
 *
 * @example alignOffset(100, GGUF_DEFAULT_ALIGNMENT); // 128
 */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/**
 * Metadata value type ids (`gguf_metadata_value_type`, a u32 in the file).
 *
 * @example GGUF_VALUE_TYPE.string; // 8
 */
export const GGUF_VALUE_TYPE = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;
/**
 * A metadata value type by name.
 *
 * @example const t: GgufValueTypeName = 'uint32';
 */
export type GgufValueTypeName = keyof typeof GGUF_VALUE_TYPE;

const VALUE_TYPE_NAMES = new Map<number, GgufValueTypeName>((Object.entries(GGUF_VALUE_TYPE) as [GgufValueTypeName, number][]).map(([name, id]) => [id, name]));

/**
 * The metadata value type name for an id, or undefined for an id the spec does not define.
 *
 * @example ggufValueTypeName(4); // 'uint32'
 */
export function ggufValueTypeName(id: number): GgufValueTypeName | undefined {
  return VALUE_TYPE_NAMES.get(id);
}

/**
 * A typed metadata value. The type is kept so a file can be rewritten byte for byte (a u32 and an
 * i32 holding 3 are different files) and so readers can say what they found.
 *
 * @example const v: GgufValue = { type: 'uint32', value: 27 };
 */
export type GgufValue =
  | { type: 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64'; value: number }
  | { type: 'uint64' | 'int64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: GgufValueTypeName; value: GgufValue[] };

/**
 * ggml tensor type ids (`ggml_type`) with their names, as listed in the spec.
 *
 * @example GGML_TYPE.F32; // 0
 */
export const GGML_TYPE = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
} as const;
/**
 * A ggml tensor type by name.
 *
 * @example const t: GgmlTypeName = 'F16';
 */
export type GgmlTypeName = keyof typeof GGML_TYPE;

const GGML_TYPE_NAMES = new Map<number, GgmlTypeName>((Object.entries(GGML_TYPE) as [GgmlTypeName, number][]).map(([name, id]) => [id, name]));

/**
 * A ggml type's name for messages: `F16`, or `type 99` for an id the spec does not list.
 *
 * @example ggmlTypeName(1); // 'F16'
 */
export function ggmlTypeName(id: number): string {
  return GGML_TYPE_NAMES.get(id) ?? `type ${id}`;
}

/**
 * Bytes per element of the unquantised ggml types. Quantised types store blocks and are not
 * sized here: this toolkit only reads and writes plain tensors.
 *
 * @example GGML_ELEMENT_BYTES[GGML_TYPE.F16]; // 2
 */
export const GGML_ELEMENT_BYTES: Partial<Record<number, number>> = {
  [GGML_TYPE.F32]: 4,
  [GGML_TYPE.F16]: 2,
  [GGML_TYPE.BF16]: 2,
  [GGML_TYPE.F64]: 8,
  [GGML_TYPE.I8]: 1,
  [GGML_TYPE.I16]: 2,
  [GGML_TYPE.I32]: 4,
  [GGML_TYPE.I64]: 8,
};

/**
 * `offset` rounded up to a multiple of `alignment` (the spec's `align_offset`).
 *
 * @example alignOffset(4004, 32); // 4032
 */
export function alignOffset(offset: number, alignment: number): number {
  return offset + ((alignment - (offset % alignment)) % alignment);
}
