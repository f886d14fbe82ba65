/**
 * A minimal protobuf writer: enough of the wire format (varints, length-delimited fields, packed
 * repeated scalars, fixed32 floats) to encode ONNX ModelProto messages.
 */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private cur: number[] = [];
  private size = 0;

  private flushCur(): void {
    if (this.cur.length) {
      this.chunks.push(Uint8Array.from(this.cur));
      this.size += this.cur.length;
      this.cur = [];
    }
  }

  private varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    while (n >= 0x80n) {
      this.cur.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.cur.push(Number(n));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.cur.push(...b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(data.length);
    this.flushCur();
    this.chunks.push(data);
    this.size += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, w: ProtoWriter): this {
    return this.bytes(field, w.finish());
  }

  packedInts(field: number, vals: ArrayLike<number | bigint>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < vals.length; i++) inner.varint(vals[i]);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, vals: ArrayLike<number>): this {
    const b = new Uint8Array(vals.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < vals.length; i++) dv.setFloat32(i * 4, vals[i], true);
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    this.flushCur();
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}
