import { DataType, type AttrValue, type DataTypeId, type Dim, type Initializer, type ModelDef, type NodeDef, type ValueInfo } from './onnxProto.js';

/**
 * Builds an ONNX graph op by op. Each op call returns its output name, so a forward pass reads top
 * to bottom like the math. Names are scoped (`blocks.3.attn.q`) so every intermediate is findable.
 */
export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers: Initializer[] = [];
  private counter = 0;
  private scopeStack: string[] = [];
  private constCache = new Map<string, string>();
  private outputNodes = new Set<NodeDef>();

  scoped<T>(scope: string, fn: () => T): T {
    this.scopeStack.push(scope);
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  private fresh(hint: string): string {
    const prefix = this.scopeStack.length ? `${this.scopeStack.join('.')}.` : '';
    return `${prefix}${hint}_${this.counter++}`;
  }

  input(name: string, type: DataTypeId, shape: Dim[]): string {
    this.inputs.push({ name, type, shape });
    return name;
  }

  /** Declares a graph output. `build` renames the producing node's output to `name` where it can, so no Identity node runs. */
  output(value: string, name: string, type: DataTypeId, shape: Dim[]): void {
    this.op('Identity', [value], {}, name);
    this.outputNodes.add(this.nodes[this.nodes.length - 1]);
    this.outputs.push({ name, type, shape });
  }

  initializer(init: Initializer): string {
    this.initializers.push(init);
    return init.name;
  }

  /** Adds a node with one output; returns the output name. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName?: string, domain?: string): string {
    const out = outName ?? this.fresh(op.toLowerCase());
    this.nodes.push({ op, inputs, outputs: [out], name: `${out}/${op}`, attrs, domain });
    return out;
  }

  /** Adds a node with several outputs. */
  opMulti(op: string, inputs: string[], nOut: number, attrs: Record<string, AttrValue> = {}, domain?: string): string[] {
    const outs = Array.from({ length: nOut }, () => this.fresh(op.toLowerCase()));
    this.nodes.push({ op, inputs, outputs: outs, name: `${outs[0]}/${op}`, attrs, domain });
    return outs;
  }

  /** An int64 constant tensor (deduplicated). */
  i64(values: number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const raw = new Uint8Array(values.length * 8);
    const dv = new DataView(raw.buffer);
    values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
    const name = `const_i64_${this.constCache.size}`;
    this.initializers.push({ name, type: DataType.INT64, dims, raw });
    this.constCache.set(key, name);
    return name;
  }

  /** A float32 constant tensor (deduplicated); a scalar when dims is []. */
  f32(values: number[], dims: number[] = []): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const raw = new Uint8Array(new Float32Array(values).buffer);
    const name = `const_f32_${this.constCache.size}`;
    this.initializers.push({ name, type: DataType.FLOAT, dims, raw });
    this.constCache.set(key, name);
    return name;
  }

  // Shorthands for the common ops.
  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }
  matmul(a: string, b: string): string {
    return this.op('MatMul', [a, b]);
  }
  reshape(x: string, shape: number[]): string {
    return this.op('Reshape', [x, this.i64(shape)]);
  }
  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x], { perm });
  }
  unsqueeze(x: string, axes: number[]): string {
    return this.op('Unsqueeze', [x, this.i64(axes)]);
  }
  concat(xs: string[], axis: number): string {
    return this.op('Concat', xs, { axis });
  }
  slice(x: string, starts: number[], ends: number[], axes: number[]): string {
    return this.op('Slice', [x, this.i64(starts), this.i64(ends), this.i64(axes)]);
  }
  split(x: string, sizes: number[], axis: number): string[] {
    return this.opMulti('Split', [x, this.i64(sizes)], sizes.length, { axis });
  }

  build(name: string): ModelDef {
    return { nodes: this.withoutOutputIdentities(), inputs: this.inputs, outputs: this.outputs, initializers: this.initializers, name };
  }

  /**
   * Drops the Identity of each output whose value a node of this graph produces (and that is not
   * output twice): that node's output takes the output's name, and its other consumers follow.
   */
  private withoutOutputIdentities(): NodeDef[] {
    const producer = new Map<string, NodeDef>();
    for (const n of this.nodes) if (!this.outputNodes.has(n)) for (const o of n.outputs) producer.set(o, n);
    const uses = new Map<string, number>();
    for (const n of this.outputNodes) uses.set(n.inputs[0], (uses.get(n.inputs[0]) ?? 0) + 1);
    const rename = new Map<string, string>();
    const dropped = new Set<NodeDef>();
    for (const n of this.outputNodes) {
      const value = n.inputs[0];
      if (!producer.has(value) || uses.get(value) !== 1) continue;
      rename.set(value, n.outputs[0]);
      dropped.add(n);
    }
    const to = (v: string) => rename.get(v) ?? v;
    return this.nodes.filter((n) => !dropped.has(n)).map((n) => ({ ...n, inputs: n.inputs.map(to), outputs: n.outputs.map(to) }));
  }
}
