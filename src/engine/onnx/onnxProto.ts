import { ProtoWriter } from './protobuf.js';

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10, BFLOAT16: 16 } as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

export type AttrValue = number | string | number[] | { floats: number[] } | { float: number };

export interface NodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  domain?: string;
  attrs?: Record<string, AttrValue>;
}

/** A dimension: a fixed size or a symbolic name. */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  type: DataTypeId;
  shape: Dim[];
}

export interface Initializer {
  name: string;
  type: DataTypeId;
  dims: number[];
  /** Inline bytes, or a location in an external data file next to the model. */
  raw?: Uint8Array;
  external?: { location: string; offset: number; length: number };
}

function encodeAttr(name: string, v: AttrValue): ProtoWriter {
  // AttributeProto: name=1 f=2 i=3 s=4 floats=7 ints=8 type=20
  const w = new ProtoWriter().string(1, name);
  if (typeof v === 'number') {
    if (Number.isInteger(v)) w.int(3, v).int(20, 2);
    else w.float(2, v).int(20, 1);
  } else if (typeof v === 'string') {
    w.string(4, v).int(20, 3);
  } else if (Array.isArray(v)) {
    w.packedInts(8, v).int(20, 7);
  } else if ('floats' in v) {
    w.packedFloats(7, v.floats).int(20, 6);
  } else {
    w.float(2, v.float).int(20, 1);
  }
  return w;
}

function encodeNode(n: NodeDef): ProtoWriter {
  // NodeProto: input=1 output=2 name=3 op_type=4 attribute=5 domain=7
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, encodeAttr(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function encodeValueInfo(v: ValueInfo): ProtoWriter {
  // ValueInfoProto{name=1,type=2}; TypeProto{tensor_type=1}; Tensor{elem_type=1, shape=2}; Shape{dim=1}; Dim{dim_value=1, dim_param=2}
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensor = new ProtoWriter().int(1, v.type).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensor));
}

function encodeInitializer(t: Initializer): ProtoWriter {
  // TensorProto: dims=1 data_type=2 name=8 raw_data=9 external_data=13 data_location=14
  const w = new ProtoWriter().packedInts(1, t.dims).int(2, t.type).string(8, t.name);
  if (t.external) {
    const entry = (k: string, v: string) => new ProtoWriter().string(1, k).string(2, v);
    w.message(13, entry('location', t.external.location));
    w.message(13, entry('offset', String(t.external.offset)));
    w.message(13, entry('length', String(t.external.length)));
    w.int(14, 1);
  } else {
    w.bytes(9, t.raw ?? new Uint8Array(0));
  }
  return w;
}

export interface ModelDef {
  nodes: NodeDef[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Initializer[];
  name: string;
}

/** Encodes an ONNX ModelProto (IR 10, opsets ai.onnx 23 and com.microsoft 1). */
export function encodeModel(m: ModelDef): Uint8Array {
  // GraphProto: node=1 name=2 initializer=5 input=11 output=12
  const g = new ProtoWriter();
  for (const n of m.nodes) g.message(1, encodeNode(n));
  g.string(2, m.name);
  for (const t of m.initializers) g.message(5, encodeInitializer(t));
  for (const i of m.inputs) g.message(11, encodeValueInfo(i));
  for (const o of m.outputs) g.message(12, encodeValueInfo(o));
  // ModelProto: ir_version=1 producer_name=2 graph=7 opset_import=8
  const opset = (domain: string, version: number) => new ProtoWriter().string(1, domain).int(2, version);
  return new ProtoWriter().int(1, 10).string(2, 'persona-vectors').message(7, g).message(8, opset('', 23)).message(8, opset('com.microsoft', 1)).finish();
}
