import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../engine/onnx/GraphBuilder.js';
import { DataType, encodeModel } from '../engine/onnx/onnxProto.js';

export interface MachineBounds {
  /** Achievable read bandwidth, bytes/s: the best of a large reduction and a large GEMV through onnxruntime. */
  readBandwidth: number;
  /** Large f32 matmul rate (1024×1024 · 1024×3072), FLOP/s. */
  matmulFlops: number;
  threads: number;
}

async function timeBest(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return best / 1000;
}

async function session(g: GraphBuilder, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(encodeModel(g.build('probe')), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

/**
 * Measures the machine's bounds in the same process that measures the engine: achievable memory
 * read bandwidth (so decode ≤ bandwidth / bytes read per token) and the f32 GEMM rate (so prefill ≤
 * rate / FLOPs per token).
 *
 * @example const b = await measureMachineBounds(2); b.readBandwidth / 1e9 // GB/s
 */
export async function measureMachineBounds(threads: number, reps = 5): Promise<MachineBounds> {
  // 1) ReduceSum over 512 MiB.
  const n = 128 * 1024 * 1024;
  const big = new Float32Array(n).fill(1);
  const g1 = new GraphBuilder();
  const x = g1.input('x', DataType.FLOAT, [n]);
  g1.output(g1.op('ReduceSum', [x, g1.i64([0])], { keepdims: 0 }), 'y', DataType.FLOAT, []);
  const s1 = await session(g1, threads);
  const tReduce = await timeBest(() => s1.run({ x: new ort.Tensor('float32', big, [n]) }), reps);
  await s1.release();
  // 2) GEMV [1,K]·[K,N] with the matrix as an input (read once per run, as decode reads weights).
  const K = 4096;
  const N = 16384;
  const w = big.subarray(0, K * N);
  const g2 = new GraphBuilder();
  const a = g2.input('a', DataType.FLOAT, [1, K]);
  const b = g2.input('b', DataType.FLOAT, [K, N]);
  g2.output(g2.matmul(a, b), 'y', DataType.FLOAT, [1, N]);
  const s2 = await session(g2, threads);
  const av = new Float32Array(K).fill(0.5);
  const tGemv = await timeBest(() => s2.run({ a: new ort.Tensor('float32', av, [1, K]), b: new ort.Tensor('float32', w, [K, N]) }), reps);
  await s2.release();
  const readBandwidth = Math.max((n * 4) / tReduce, (K * N * 4) / tGemv);
  // 3) GEMM 1024×1024 · 1024×3072.
  const M = 1024;
  const g3 = new GraphBuilder();
  const p = g3.input('p', DataType.FLOAT, [M, 1024]);
  const q = g3.input('q', DataType.FLOAT, [1024, 3072]);
  g3.output(g3.matmul(p, q), 'y', DataType.FLOAT, [M, 3072]);
  const s3 = await session(g3, threads);
  const pv = new Float32Array(M * 1024).fill(0.01);
  const qv = new Float32Array(1024 * 3072).fill(0.02);
  const tGemm = await timeBest(() => s3.run({ p: new ort.Tensor('float32', pv, [M, 1024]), q: new ort.Tensor('float32', qv, [1024, 3072]) }), reps);
  await s3.release();
  return { readBandwidth, matmulFlops: (2 * M * 1024 * 3072) / tGemm, threads };
}
