// Low-precision batching experiment (issue #16): decode-step time at batch 1 and batch 8 for graph
// variants over the same converted weights, interleaved in one process (A, B, A, B, …), reporting the
// batch-8/batch-1 throughput ratio per round (8·t1/t8) and its median and spread.
//   node scripts/lowprec-batch.mjs PRECISION ROUNDS VARIANT... (variants: see VARIANTS below)
// Needs dist/ built and the bench's random Qwen3-0.6B-shape checkpoint (persona bench makes it). The
// att5d/att5dalpha variants need EXP_GRAPH=<file written by scripts/lowprec-expgraph.py>; bs<N> converts
// the weights once more in blocks of N. PERSONA_ORT_PROFILE=prefix writes one profile per variant
// (split it with scripts/lowprec-profile.py). ratio_of_min_steps uses the fastest step of each batch size.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { openDecoder } from '../dist/engine/openDecoder.js';
import { BLOCK_SIZE } from '../dist/engine/convert/convertWeights.js';
// An experimental copy of the graph builder (attention variants behind globalThis.__ATT); see EXP_GRAPH.
const { buildDecoderGraph } = await import(process.env.EXP_GRAPH ?? '../dist/engine/graph/buildDecoderGraph.js');
import { encodeModel } from '../dist/engine/onnx/onnxProto.js';
import { DecoderSession } from '../dist/engine/DecoderSession.js';
import { GENERATION_GRAPH } from '../dist/engine/graph/GraphOptions.js';
import { decoder } from '../dist/bench/decodeTiming.js';

const [precision = 'q4', roundsArg = '5', ...names] = process.argv.slice(2);
const dir = process.env.MODEL_DIR ?? path.join(os.homedir(), '.cache/persona-vectors/bench/h16-qwen3-0.6b');
const CTX = Number(process.env.CTX ?? 128);
const STEPS = Number(process.env.STEPS ?? 4); // steps per batch size per round (median taken)
const threads = Number(process.env.THREADS ?? 2);

/** Each variant edits the built graph's nodes (same initializers) and/or the session options. */
const setLevel = (lvl) => (g) => {
  for (const n of g.nodes) if (n.op === 'MatMulNBits') n.attrs.accuracy_level = lvl;
};
const VARIANTS = {
  base: { edit: () => {} },
  acc0: { edit: setLevel(0) },
  acc1: { edit: setLevel(1) },
  acc2: { edit: setLevel(2) },
  acc4: { edit: setLevel(4) },
  all: { edit: () => {}, opts: { graphOptimizationLevel: 'all' } },
  basic: { edit: () => {}, opts: { graphOptimizationLevel: 'basic' } },
  nospin: { edit: () => {}, opts: { extra: { session: { 'session.intra_op.allow_spinning': '0' } } } },
  t1: { edit: () => {}, opts: { intraOpNumThreads: 1 } },
  att5d: { edit: () => {}, att: 'att5d' },
  att5dalpha: { edit: () => {}, att: 'att5dalpha' },
  bs32: { edit: () => {}, block: 32 },
  bs64: { edit: () => {}, block: 64 },
  bs128: { edit: () => {}, block: 128 },
  bs256: { edit: () => {}, block: 256 },
};

const defaultBlock = BLOCK_SIZE[precision];
const opened = {};
const open = async (block) => {
  if (!opened[block]) {
    BLOCK_SIZE[precision] = block; // the conversion cache key includes the block size
    opened[block] = await openDecoder(dir, { precision, threads });
    await opened[block].session.release();
    BLOCK_SIZE[precision] = defaultBlock;
  }
  return opened[block];
};
const sessions = {};
for (const name of names) {
  const v = VARIANTS[name];
  const d = await open(v.block ?? defaultBlock);
  globalThis.__ATT = v.att;
  const g = buildDecoderGraph(d.config, d.manifest, d.manifest.weightsFile, GENERATION_GRAPH);
  v.edit(g);
  const file = path.join(d.folder, `exp-${name}.onnx`);
  await fs.writeFile(file, encodeModel(g.build('decoder')));
  const so = {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'extended',
    enableCpuMemArena: true,
    ...(process.env.PERSONA_ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: `${process.env.PERSONA_ORT_PROFILE}-${precision}-${name}` } : {}),
    ...(v.opts ?? {}),
  };
  const s = await ort.InferenceSession.create(file, so);
  await fs.rm(file);
  sessions[name] = new DecoderSession(s, d.config, GENERATION_GRAPH);
}
const rounds = Number(roundsArg);
const total = (rounds + 1) * STEPS + 2;
const steppers = {};
for (const name of names) steppers[name] = { 1: await decoder(sessions[name], CTX, 1, total), 8: await decoder(sessions[name], CTX, 8, total) };
const med = (x) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
const res = Object.fromEntries(names.map((n) => [n, { t1: [], t8: [], ratio: [], all1: [], all8: [] }]));
for (let r = -1; r < rounds; r++) {
  for (const name of names) {
    const t = {};
    for (const B of [1, 8]) {
      const xs = [];
      for (let i = 0; i < STEPS; i++) xs.push(await steppers[name][B]());
      t[B] = med(xs);
      if (r >= 0) res[name][`all${B}`].push(...xs);
    }
    if (r < 0) continue; // warm-up round
    res[name].t1.push(t[1]);
    res[name].t8.push(t[8]);
    res[name].ratio.push((8 * t[1]) / t[8]);
  }
}
const f = (x, k = 2) => x.toFixed(k);
for (const name of names) {
  const { t1, t8, ratio, all1, all8 } = res[name];
  // The fastest step of each batch size: the closest this shared machine gets to a quiet one.
  const min1 = Math.min(...all1),
    min8 = Math.min(...all8);
  console.log(
    JSON.stringify({
      precision,
      variant: name,
      rounds,
      ratio_median: f(med(ratio)),
      ratio_range: [f(Math.min(...ratio)), f(Math.max(...ratio))],
      ratio_of_min_steps: f((8 * min1) / min8),
      min1_ms: f(min1 * 1000, 1),
      min8_ms: f(min8 * 1000, 1),
      t1_ms: f(med(t1) * 1000, 1),
      t8_ms: f(med(t8) * 1000, 1),
      t1_rel_base: names[0] !== name ? f(med(t1.map((x, i) => x / res[names[0]].t1[i]))) : undefined,
      t8_rel_base: names[0] !== name ? f(med(t8.map((x, i) => x / res[names[0]].t8[i]))) : undefined,
    }),
  );
}
for (const s of Object.values(sessions)) await s.release();
