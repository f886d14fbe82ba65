// Probe: 28 layers of attention at decode (T=1), batch B, cache capacity C with P cached.
// A: the shipped subgraph (FusedMatMul scores vs cache and new, concat, bias, softmax, slices, 2 MatMuls).
// B: com.microsoft GroupQueryAttention with past/present bound to the same JS buffer (in-place append).
//   node scripts/lowprec-gqa-probe.mjs BATCH ROUNDS   (needs dist/ built)
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../dist/engine/onnx/GraphBuilder.js';
import { DataType, encodeModel } from '../dist/engine/onnx/onnxProto.js';
const B = Number(process.argv[2] ?? 8),
  L = 28,
  qH = 16,
  kvH = 8,
  D = 128,
  G = 2,
  P = 128,
  C = 165;
const rounds = Number(process.argv[3] ?? 20);
const rnd = () => Math.random() - 0.5;
function shipped() {
  const g = new GraphBuilder();
  const q = g.input('q', DataType.FLOAT, [B, qH, 1, D]);
  const bias = g.input('bias', DataType.FLOAT, [B, 1, G, C + 1]);
  const cacheLength = g.op('Shape', ['past_k_0'], { start: 2, end: 3 });
  for (let l = 0; l < L; l++) {
    const pastK = g.input(`past_k_${l}`, DataType.FLOAT, [B, kvH, C, D]);
    const pastV = g.input(`past_v_${l}`, DataType.FLOAT, [B, kvH, C, D]);
    const newK = g.input(`k_${l}`, DataType.FLOAT, [B, kvH, 1, D]);
    const newV = g.input(`v_${l}`, DataType.FLOAT, [B, kvH, 1, D]);
    const qg = g.reshape(q, [0, kvH, -1, D]);
    const qk = (keys) => g.op('FusedMatMul', [qg, keys], { transA: 0, transB: 1, alpha: { float: 0.088 } }, undefined, 'com.microsoft');
    const scores = g.add(g.concat([qk(pastK), qk(newK)], 3), bias);
    const probs = g.op('Softmax', [scores], { axis: -1 });
    const pPast = g.op('Slice', [probs, g.i64([0]), cacheLength, g.i64([3])]);
    const pNew = g.op('Slice', [probs, cacheLength, g.i64([Number.MAX_SAFE_INTEGER]), g.i64([3])]);
    g.output(g.add(g.matmul(pPast, pastV), g.matmul(pNew, newV)), `y_${l}`, DataType.FLOAT, [B, kvH, G, D]);
  }
  return encodeModel(g.build('a'));
}
function gqa() {
  const g = new GraphBuilder();
  const q = g.input('q3', DataType.FLOAT, [B, 1, qH * D]);
  const seqlens = g.input('seqlens_k', DataType.INT32, [B]);
  const total = g.input('total_len', DataType.INT32, []);
  const bias = g.input('bias4', DataType.FLOAT, [B, 1, 1, P + 1]);
  for (let l = 0; l < L; l++) {
    const k = g.input(`k3_${l}`, DataType.FLOAT, [B, 1, kvH * D]);
    const v = g.input(`v3_${l}`, DataType.FLOAT, [B, 1, kvH * D]);
    const pk = g.input(`past_k_${l}`, DataType.FLOAT, [B, kvH, C, D]);
    const pv = g.input(`past_v_${l}`, DataType.FLOAT, [B, kvH, C, D]);
    const outs = g.opMulti(
      'GroupQueryAttention',
      [q, k, v, pk, pv, seqlens, total, '', '', '', bias],
      3,
      { num_heads: qH, kv_num_heads: kvH, scale: { float: 0.088 } },
      'com.microsoft',
    );
    g.output(outs[0], `y_${l}`, DataType.FLOAT, [B, 1, qH * D]);
    g.output(outs[1], `present_k_${l}`, DataType.FLOAT, [B, kvH, C, D]);
    g.output(outs[2], `present_v_${l}`, DataType.FLOAT, [B, kvH, C, D]);
  }
  return encodeModel(g.build('b'));
}
const opts = { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'extended' };
const sa = await ort.InferenceSession.create(shipped(), opts);
let sb;
try {
  sb = await ort.InferenceSession.create(gqa(), opts);
} catch (e) {
  console.log('GQA create failed:', e.message.split('\n')[0]);
}
const f32 = (n) => new Float32Array(n).map(rnd);
const cacheK = Array.from({ length: L }, () => f32(B * kvH * C * D)),
  cacheV = Array.from({ length: L }, () => f32(B * kvH * C * D));
const fa = {
  q: new ort.Tensor('float32', f32(B * qH * D), [B, qH, 1, D]),
  bias: new ort.Tensor('float32', new Float32Array(B * G * (C + 1)), [B, 1, G, C + 1]),
};
for (let l = 0; l < L; l++) {
  fa[`past_k_${l}`] = new ort.Tensor('float32', cacheK[l], [B, kvH, C, D]);
  fa[`past_v_${l}`] = new ort.Tensor('float32', cacheV[l], [B, kvH, C, D]);
  fa[`k_${l}`] = new ort.Tensor('float32', f32(B * kvH * D), [B, kvH, 1, D]);
  fa[`v_${l}`] = new ort.Tensor('float32', f32(B * kvH * D), [B, kvH, 1, D]);
}
const fb = {
  q3: new ort.Tensor('float32', f32(B * qH * D), [B, 1, qH * D]),
  seqlens_k: new ort.Tensor('int32', new Int32Array(B).fill(P), [B]),
  total_len: new ort.Tensor('int32', new Int32Array([P + 1]), []),
  bias4: new ort.Tensor('float32', new Float32Array(B * (P + 1)), [B, 1, 1, P + 1]),
};
const fetchB = {};
for (let l = 0; l < L; l++) {
  fb[`past_k_${l}`] = fa[`past_k_${l}`];
  fb[`past_v_${l}`] = fa[`past_v_${l}`];
  fb[`k3_${l}`] = new ort.Tensor('float32', f32(B * kvH * D), [B, 1, kvH * D]);
  fb[`v3_${l}`] = new ort.Tensor('float32', f32(B * kvH * D), [B, 1, kvH * D]);
  fetchB[`y_${l}`] = null;
  fetchB[`present_k_${l}`] = fa[`past_k_${l}`]; // the same buffer: in-place append
  fetchB[`present_v_${l}`] = fa[`past_v_${l}`];
}
if (sb) {
  const before = cacheK[0][P * D]; // row b=0, head 0, slot P
  const out = await sb.run(fb, fetchB);
  console.log(
    'GQA ran; present_k_0 same buffer as past:',
    out.present_k_0.data.buffer === cacheK[0].buffer,
    'slot P written in place:',
    cacheK[0][P * D] !== before && cacheK[0][P * D] === fb.k3_0.data[0],
  );
}
const ta = [],
  tb = [];
for (let r = -2; r < rounds; r++) {
  let t = performance.now();
  await sa.run(fa);
  if (r >= 0) ta.push(performance.now() - t);
  if (sb) {
    t = performance.now();
    await sb.run(fb, fetchB);
    if (r >= 0) tb.push(performance.now() - t);
  }
}
const med = (x) => [...x].sort((a, b) => a - b)[x.length >> 1];
console.log(
  JSON.stringify({
    B,
    C,
    rounds,
    shipped_min: Math.min(...ta).toFixed(2),
    shipped_med: med(ta).toFixed(2),
    gqa_min: sb ? Math.min(...tb).toFixed(2) : null,
    gqa_med: sb ? med(tb).toFixed(2) : null,
    gqa_over_shipped_median_pair: sb ? med(tb.map((x, i) => x / ta[i])).toFixed(2) : null,
  }),
);
