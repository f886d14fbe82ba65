// Synthetic stack of MatMulNBits (issue #16): 28 blocks of the Qwen3-0.6B linears (qkv 1024→4096,
// o 2048→1024, gate/up 1024→6144, down 3072→1024) over random int4/int8 weights, at M = 1 and M = 8,
// for several block sizes and accuracy levels, interleaved in one process. Reports min and median
// time per pass and the M=8/M=1 time ratio (throughput ratio = 8 / that).
//   node scripts/lowprec-mmnb.mjs BITS ROUNDS BLOCK:LEVEL ...   e.g. node scripts/lowprec-mmnb.mjs 4 20 128:4 64:4 32:4
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../dist/engine/onnx/GraphBuilder.js';
import { DataType, encodeModel } from '../dist/engine/onnx/onnxProto.js';

const [bitsArg = '4', roundsArg = '20', ...specs] = process.argv.slice(2);
const bits = Number(bitsArg);
const L = Number(process.env.LAYERS ?? 28);
const threads = Number(process.env.THREADS ?? 2);
let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;

function graph(block, level) {
  const g = new GraphBuilder();
  let x = g.input('x', DataType.FLOAT, ['m', 1024]);
  const lin = (v, k, n, name) => {
    const kb = Math.ceil(k / block);
    const b = new Uint8Array(n * kb * ((block * bits) / 8));
    for (let i = 0; i < b.length; i++) b[i] = (rnd() * 256) | 0;
    const s = new Float32Array(n * kb);
    for (let i = 0; i < s.length; i++) s[i] = 0.001 + rnd() * 0.001;
    g.initializer({ name: `${name}.b`, type: DataType.UINT8, dims: [n, kb, (block * bits) / 8], raw: b });
    g.initializer({ name: `${name}.s`, type: DataType.FLOAT, dims: [n * kb], raw: new Uint8Array(s.buffer) });
    return g.op('MatMulNBits', [v, `${name}.b`, `${name}.s`], { K: k, N: n, bits, block_size: block, accuracy_level: level }, undefined, 'com.microsoft');
  };
  for (let l = 0; l < L; l++) {
    const qkv = lin(x, 1024, 4096, `l${l}.qkv`);
    const o = lin(g.slice(qkv, [0], [2048], [1]), 2048, 1024, `l${l}.o`);
    const gu = lin(o, 1024, 6144, `l${l}.gu`);
    x = lin(g.slice(gu, [0], [3072], [1]), 3072, 1024, `l${l}.down`);
  }
  g.output(x, 'y', DataType.FLOAT, ['m', 1024]);
  return encodeModel(g.build('mmnb'));
}
const sessions = [];
for (const spec of specs) {
  const [block, level] = spec.split(':').map(Number);
  const s = await ort.InferenceSession.create(graph(block, level), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'extended' });
  sessions.push({ spec, s, t: { 1: [], 8: [] } });
}
const feeds = {
  1: {
    x: new ort.Tensor(
      'float32',
      new Float32Array(1024).map(() => rnd() - 0.5),
      [1, 1024],
    ),
  },
  8: {
    x: new ort.Tensor(
      'float32',
      new Float32Array(8 * 1024).map(() => rnd() - 0.5),
      [8, 1024],
    ),
  },
};
for (let r = -2; r < Number(roundsArg); r++)
  for (const v of sessions)
    for (const M of [1, 8]) {
      const t0 = performance.now();
      await v.s.run(feeds[M]);
      if (r >= 0) v.t[M].push(performance.now() - t0);
    }
const med = (x) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
const min = (x) => Math.min(...x);
for (const v of sessions) {
  const ratios = v.t[8].map((x, i) => x / v.t[1][i]);
  console.log(
    JSON.stringify({
      bits,
      spec: v.spec,
      m1_min_ms: min(v.t[1]).toFixed(2),
      m8_min_ms: min(v.t[8]).toFixed(2),
      m1_med_ms: med(v.t[1]).toFixed(2),
      m8_med_ms: med(v.t[8]).toFixed(2),
      m8_over_m1_of_mins: (min(v.t[8]) / min(v.t[1])).toFixed(2),
      m8_over_m1_median_pair: med(ratios).toFixed(2),
    }),
  );
}
