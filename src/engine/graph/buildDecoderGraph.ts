import { TENSOR_NAMES } from '../../model/architectures/tensorPlan.js';
import type { ModelConfig } from '../../model/config/ModelConfig.js';
import type { ConvertedWeights, StoredLinear } from '../convert/ConvertedWeights.js';
import { GraphBuilder } from '../onnx/GraphBuilder.js';
import { DataType } from '../onnx/onnxProto.js';
import { ropeInvFreq, ropeTables } from './rope.js';
import { CLAMP_SLOTS, type GraphOptions } from './GraphOptions.js';

/**
 * Builds the decoder forward pass as an ONNX graph over the converted weights (external data).
 *
 * Inputs (B batch, T new tokens, P cached tokens, S = P+T, G = heads per KV head, D head dim, L layers):
 *   input_ids [B,T] int64; position_ids [B,T] int64 (rope positions); attn_bias [B,1,G·T,S]
 *   (additive: 0 or −1e30, rows g-major, columns = C cache slots then T new; attn_bias_sliding likewise);
 *   past_k_l/past_v_l [B,kvH,C,D] (the JS cache buffer, C = its capacity; an int8 cache's layout and
 *   scales are described at `int8Past`);
 *   steer [L·B,1,H] layer-major, split into one [B,1,H] per block: resid_l += steer_l (summed with the
 *   block's MLP residual add in one Sum kernel, or added after the clamps in the clamp graph; a row's
 *   steering is on or off for a whole forward call, decided by the session);
 *   clamp_dir [B,L,K,H], clamp_lo/clamp_hi [B,L,K] (projection clamp, K = CLAMP_SLOTS directions per
 *   layer, applied in turn before the add); pool_weights [B,K,P] (over the last P ≤ T new positions).
 *   top_k [1] int64 (logits 'last'/'targets': how many of the last position's largest logits to
 *   output; 0 = none).
 * Outputs: logits [B,V] or [B,T,V]; top_logits [B,k] and top_ids [B,k] int64 (sorted descending);
 *   new_k_l/new_v_l [B,kvH,T,D] (only the new rows: the cache stays in JS); pooled [B,L,K,H];
 *   hidden_i [B,T,H], final_norm [B,T,H].
 *
 * "Layer l" is the residual stream after decoder block l (HF hidden_states[l+1]).
 *
 * Weights are named by role (`TENSOR_NAMES`: `embed`, `blocks.{l}.attn.qkv`, ...), as the converter
 * wrote them from the architecture's tensor table; this file names no checkpoint tensor.
 */
export function buildDecoderGraph(c: ModelConfig, w: ConvertedWeights, weightsFile: string, opts: GraphOptions): GraphBuilder {
  const g = new GraphBuilder();
  const H = c.hiddenSize;
  const D = c.headDim;
  const qH = c.numAttentionHeads;
  const kvH = c.numKeyValueHeads;
  const L = c.numHiddenLayers;
  const V = c.vocabSize;

  for (const [name, t] of Object.entries(w.tensors)) {
    g.initializer({ name, type: t.type, dims: t.dims, external: { location: weightsFile, offset: t.offset, length: t.length } });
  }

  const inputIds = g.input('input_ids', DataType.INT64, ['batch', 'seq']);
  const positionIds = g.input('position_ids', DataType.INT64, ['batch', 'seq']);
  const slidingRope = c.layerTypes.includes('sliding_attention') && JSON.stringify(c.rope.sliding_attention) !== JSON.stringify(c.rope.full_attention);
  // Tables only for the kinds a layer uses (an unused initializer draws an onnxruntime warning).
  const usesFullTables = c.layerTypes.some((t) => t === 'full_attention' || !slidingRope);
  const rope = {
    full_attention: usesFullTables ? ropeTablesInit(g, c, 'full_attention') : undefined,
    sliding_attention: slidingRope ? ropeTablesInit(g, c, 'sliding_attention') : undefined,
  };
  const attnBias = g.input('attn_bias', DataType.FLOAT, ['batch', 1, 'gseq', 'total']);
  const hasSliding = c.layerTypes.includes('sliding_attention') && c.slidingWindow !== null;
  const attnBiasSliding = hasSliding ? g.input('attn_bias_sliding', DataType.FLOAT, ['batch', 1, 'gseq', 'total']) : attnBias;
  const clamp = opts.projectionClamp
    ? {
        dir: g.input('clamp_dir', DataType.FLOAT, ['batch', L, CLAMP_SLOTS, H]),
        lo: g.input('clamp_lo', DataType.FLOAT, ['batch', L, CLAMP_SLOTS]),
        hi: g.input('clamp_hi', DataType.FLOAT, ['batch', L, CLAMP_SLOTS]),
      }
    : null;
  const poolWeights = opts.pooling ? g.input('pool_weights', DataType.FLOAT, ['batch', 'pools', 'seq']) : null;

  // Embedding: [B,T,H]
  const embed = `${TENSOR_NAMES.embed}.weight`;
  let x = g.op('Gather', [gatherTable(g, w, embed, weightsFile), inputIds], { axis: 0 });
  if (w.tensors[embed].type !== DataType.FLOAT) x = g.op('Cast', [x], { to: DataType.FLOAT });
  if (c.embeddingScale !== 1) x = g.mul(x, g.f32([c.embeddingScale]));
  if (opts.hiddenStates) g.output(x, 'hidden_0', DataType.FLOAT, ['batch', 'seq', H]);

  const norm = (v: string, role: string) => g.op('RMSNormalization', [v, `${role}.weight`], { axis: -1, epsilon: { float: c.rmsNormEps } });
  const linear = (v: string, name: string) => applyLinear(g, v, w.linears[name]);

  // Steering: one input [L·B,1,H], split into the per-block [B,1,H] adds.
  const steer = opts.steering !== false ? g.opMulti('Split', [g.input('steer', DataType.FLOAT, ['steer_rows', 1, H])], L, { axis: 0, num_outputs: L }) : null;
  const resids: string[] = [];
  // Every layer's cache has the same capacity C (dimension 2 of every layout's values): one Shape for all.
  const int8Cache = opts.kvCache === 'int8';
  const cacheLength = g.op('Shape', ['past_v_0'], { start: 2, end: 3 }); // [1]
  for (let l = 0; l < L; l++) {
    x = g.scoped(`blocks.${l}`, () => {
      const n = TENSOR_NAMES.block(l);
      const layerType = c.layerTypes[l];
      const r = (rope[layerType] ?? rope.full_attention)!;
      const bias = layerType === 'sliding_attention' ? attnBiasSliding : attnBias;

      // --- attention ---
      // Heads-major from the start: [B,T,heads,D] → [B,heads,T,D], the layout the cache, the 4-D
      // RotaryEmbedding and the grouped-query fold all use, so no reshapes sit around rope and the
      // new K/V rows leave the graph as they are (fewer nodes: per-node dispatch dominates decode).
      const h = norm(x, n.attnNorm);
      const qkv = g.reshape(linear(h, n.qkv), [0, 0, qH + 2 * kvH, D]); // [B,T,qH+2kvH,D]
      const [q0, k0, v0] = g.split(qkv, [qH, kvH, kvH], 2).map((t) => g.transpose(t, [0, 2, 1, 3])); // [B,heads,T,D]
      let q = q0;
      let k = k0;
      if (c.qkNorm) {
        q = norm(q, n.qNorm);
        k = norm(k, n.kNorm);
      }
      q = g.op('RotaryEmbedding', [q, r.cos, r.sin, positionIds], { interleaved: 0 });
      const newK = g.op('RotaryEmbedding', [k, r.cos, r.sin, positionIds], { interleaved: 0 }); // [B,kvH,T,D]
      const newV = v0;
      g.output(newK, `new_k_${l}`, DataType.FLOAT, ['batch', kvH, 'seq', D]);
      g.output(newV, `new_v_${l}`, DataType.FLOAT, ['batch', kvH, 'seq', D]);
      // Query head n = kv·G + g, so [B,qH,T,D] is already [B,kvH,G·T,D] in memory.
      const qg = g.reshape(q, [0, kvH, -1, D]);
      // Scores against the cache and against the new rows, side by side: [B,kvH,G·T,C+T]; the
      // attention scale rides on the MatMul (FusedMatMul alpha) and K is read transposed in place.
      const qk = (keys: string) => g.op('FusedMatMul', [qg, keys], { transA: 0, transB: 1, alpha: { float: c.attentionScale } }, undefined, 'com.microsoft');
      // The cache buffer as it is in JS (C = its capacity; unused slots are masked): see `KVCache`.
      const past = int8Cache ? int8Past(g, l, kvH, D, c.attentionScale) : f32Past(g, l, kvH, D, qk);
      let scores = g.concat([past.scores(qg), qk(newK)], 3);
      if (c.attnLogitSoftcapping) {
        const cap = g.f32([c.attnLogitSoftcapping]);
        scores = g.mul(g.op('Tanh', [g.div(scores, cap)]), cap);
      }
      scores = g.add(scores, bias);
      const probs = g.op('Softmax', [scores], { axis: -1 });
      const pPast = g.op('Slice', [probs, g.i64([0]), cacheLength, g.i64([3])]);
      const pNew = g.op('Slice', [probs, cacheLength, g.i64([Number.MAX_SAFE_INTEGER]), g.i64([3])]);
      const ctx = g.add(past.context(pPast, probs), g.matmul(pNew, newV)); // [B,kvH,G·T,D]
      const merged = g.reshape(g.transpose(g.reshape(ctx, [0, qH, -1, D]), [0, 2, 1, 3]), [0, 0, qH * D]); // [B,T,qH·D]
      let attnOut = linear(merged, n.o); // [B,T,H]
      if (c.sandwichNorms) attnOut = norm(attnOut, n.attnOutNorm);
      let resid = g.add(x, attnOut);

      // --- MLP ---
      const h2 = norm(resid, n.mlpNorm);
      const gu = linear(h2, n.gateUp);
      const [gate, up] = g.split(gu, [c.intermediateSize, c.intermediateSize], 2);
      let mlpOut = linear(g.mul(activation(g, gate, c.hiddenAct), up), n.down);
      if (c.sandwichNorms) mlpOut = norm(mlpOut, n.mlpOutNorm);
      // --- steering: the one place per block where a persona vector enters (clamps, then the add) ---
      if (clamp) {
        resid = applyProjectionClamps(g, g.add(resid, mlpOut), clamp, l);
        if (steer) resid = g.add(resid, steer[l]);
      } else if (steer) {
        // The residual add and the steering add in one kernel: (resid + mlpOut) + steer_l, summed in that order.
        resid = g.op('Sum', [resid, mlpOut, steer[l]]);
      } else {
        resid = g.add(resid, mlpOut);
      }

      if (poolWeights) resids.push(resid);
      if (opts.hiddenStates) g.output(resid, `hidden_${l + 1}`, DataType.FLOAT, ['batch', 'seq', H]);
      return resid;
    });
  }
  if (poolWeights) {
    // One MatMul for every layer: [B,1,K,P] × [B,L,P,H] → [B,L,K,H], over the last P new positions
    // (P = pool_weights' last dimension). Only those positions of each layer's stream are stacked, so a
    // call that pools nothing (P = 0) copies no residual stream (the stack of every position cost
    // ~2.7% of a 512-token prefill and of a batch-64 decode step on Qwen3-0.6B's shape at q4).
    const P = g.op('Shape', [poolWeights], { start: 2, end: 3 }); // [1]
    const from = g.sub(g.op('Shape', [inputIds], { start: 1, end: 2 }), P);
    const tails = resids.map((r) => g.op('Slice', [r, from, g.i64([Number.MAX_SAFE_INTEGER]), g.i64([1])])); // [B,P,H] each
    const shape = g.concat([g.op('Shape', [inputIds], { start: 0, end: 1 }), g.i64([L]), P, g.i64([H])], 0);
    const stacked = g.op('Reshape', [g.concat(tails, 1), shape], { allowzero: 1 }); // [B,L,P,H]
    g.output(g.matmul(g.unsqueeze(poolWeights, [1]), stacked), 'pooled', DataType.FLOAT, ['batch', L, 'pools', H]);
  }

  const final = norm(x, TENSOR_NAMES.finalNorm);
  if (opts.hiddenStates) g.output(final, 'final_norm', DataType.FLOAT, ['batch', 'seq', H]);
  const softcap = (logits: string) => {
    if (!c.finalLogitSoftcapping) return logits;
    const cap = g.f32([c.finalLogitSoftcapping]);
    return g.mul(g.op('Tanh', [g.div(logits, cap)]), cap);
  };
  // Last-position logits [B,V] and their `top_k` largest (values and ids, sorted, ties to the lower
  // id): generation fetches one or the other, so a sampled step need not copy [B,V] out of the graph.
  const lastLogits = () => {
    const last = g.reshape(g.slice(final, [-1], [Number.MAX_SAFE_INTEGER], [1]), [-1, H]); // [B,H]
    const logits = softcap(outputLayer(g, last, c, w));
    g.output(logits, 'logits', DataType.FLOAT, ['batch', V]);
    const [values, ids] = g.opMulti('TopK', [logits, g.input('top_k', DataType.INT64, [1])], 2, { axis: -1, largest: 1, sorted: 1 });
    g.output(values, 'top_logits', DataType.FLOAT, ['batch', 'top']);
    g.output(ids, 'top_ids', DataType.INT64, ['batch', 'top']);
  };
  if (opts.logits === 'last') {
    lastLogits();
  } else if (opts.logits === 'all') {
    g.output(
      g.op('Reshape', [softcap(outputLayer(g, g.reshape(final, [-1, H]), c, w)), g.concat([g.op('Shape', [inputIds]), g.i64([V])], 0)]),
      'logits',
      DataType.FLOAT,
      ['batch', 'seq', V],
    );
  } else {
    // Teacher forcing in one pass: at the flat positions `score_index [N]` (into B·T), log p(score_target)
    // as logit − logsumexp, so the output layer runs only where a token is scored and no [N,V]
    // log-softmax is materialised. Last-position logits as in generation.
    const index = g.input('score_index', DataType.INT64, ['scored']);
    const target = g.unsqueeze(g.input('score_target', DataType.INT64, ['scored']), [1]); // [N,1]
    const rows = g.op('Gather', [g.reshape(final, [-1, H]), index], { axis: 0 }); // [N,H]
    const scored = softcap(outputLayer(g, rows, c, w)); // [N,V]
    const lse = g.op('ReduceLogSumExp', [scored, g.i64([1])], { keepdims: 1 });
    g.output(g.reshape(g.sub(g.op('GatherElements', [scored, target], { axis: 1 }), lse), [-1]), 'score_logprobs', DataType.FLOAT, ['scored']);
    lastLogits();
  }
  return g;
}

/** Attention over the f32 cache: past_k_l / past_v_l [B,kvH,C,D]. */
function f32Past(g: GraphBuilder, l: number, kvH: number, D: number, qk: (keys: string) => string) {
  const k = g.input(`past_k_${l}`, DataType.FLOAT, ['batch', kvH, 'past', D]);
  const v = g.input(`past_v_${l}`, DataType.FLOAT, ['batch', kvH, 'past', D]);
  return { scores: (_qg: string) => qk(k), context: (pPast: string, _probs: string) => g.matmul(pPast, v) };
}

/**
 * Attention over an int8 cache (`KVCache` kind `int8`): past_k_l int8 [B,kvH,D,C] with past_k_scale_l
 * [B,kvH,1,C], past_v_l int8 [B,kvH,C,D] with past_v_scale_l [B,kvH,1,C]. onnxruntime's
 * DynamicQuantizeMatMul quantizes its float input per tensor (uint8) and takes per-column scales for
 * the int8 one: the scores are q·K with K's columns scaled per position; the context weighs V's rows
 * by p × their scale, each query row divided by its largest probability first (so a row whose
 * attention is spread thin is not rounded to zero against a peaked one) and multiplied back after.
 */
function int8Past(g: GraphBuilder, l: number, kvH: number, D: number, attentionScale: number) {
  const k = g.input(`past_k_${l}`, DataType.INT8, ['batch', kvH, D, 'past']);
  const kScale = g.input(`past_k_scale_${l}`, DataType.FLOAT, ['batch', kvH, 1, 'past']);
  const v = g.input(`past_v_${l}`, DataType.INT8, ['batch', kvH, 'past', D]);
  const vScale = g.input(`past_v_scale_${l}`, DataType.FLOAT, ['batch', kvH, 1, 'past']);
  const dqmm = (a: string, b: string, scale: string) => g.op('DynamicQuantizeMatMul', [a, b, scale], {}, undefined, 'com.microsoft');
  return {
    scores: (qg: string) => dqmm(qg, k, g.mul(kScale, g.f32([attentionScale]))),
    context: (pPast: string, probs: string) => {
      const rowMax = g.op('ReduceMax', [probs, g.i64([-1])], { keepdims: 1 }); // [B,kvH,G·T,1], > 0
      return g.mul(dqmm(g.mul(g.div(pPast, rowMax), vScale), v, g.f32([1], [1])), rowMax);
    },
  };
}

/** cos/sin tables [maxPositions, D/2] as initializers, computed in JS exactly as transformers does. */
function ropeTablesInit(g: GraphBuilder, c: ModelConfig, kind: 'full_attention' | 'sliding_attention'): { cos: string; sin: string } {
  const p = c.rope[kind];
  const positions = Array.from({ length: c.maxPositionEmbeddings }, (_, i) => i);
  const { cos, sin } = ropeTables(ropeInvFreq(p, c.headDim), positions, p.attentionScaling);
  const dims = [c.maxPositionEmbeddings, c.headDim / 2];
  const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return {
    cos: g.initializer({ name: `rope.${kind}.cos`, type: DataType.FLOAT, dims, raw: bytes(cos) }),
    sin: g.initializer({ name: `rope.${kind}.sin`, type: DataType.FLOAT, dims, raw: bytes(sin) }),
  };
}

/**
 * Rotary embedding (HF rotate_half convention) with the opset-23 RotaryEmbedding op on [B,T,heads·D],
 * looking positions up in the cos/sin tables: one op where the written-out form needs eight.
 */
function activation(g: GraphBuilder, x: string, act: ModelConfig['hiddenAct']): string {
  switch (act) {
    case 'silu':
      return g.mul(x, g.op('Sigmoid', [x]));
    case 'gelu_tanh':
      return g.op('Gelu', [x], { approximate: 'tanh' });
    case 'gelu':
      return g.op('Gelu', [x]);
  }
}

function applyLinear(g: GraphBuilder, x: string, lin: StoredLinear): string {
  let y: string;
  if (lin.kind === 'f32') {
    y = g.matmul(x, lin.weight);
  } else {
    y = g.op(
      'MatMulNBits',
      [x, lin.b, lin.scales],
      { K: lin.in, N: lin.out, bits: lin.bits, block_size: lin.blockSize, accuracy_level: 4 },
      undefined,
      'com.microsoft',
    );
  }
  return lin.bias ? g.add(y, lin.bias) : y;
}

/**
 * The table the embedding Gather reads. When the output layer is a Gemm over the same f32 table (tied
 * weights), the Gather gets a second initializer over the same bytes of the weights file: onnxruntime
 * maps each initializer on its own, and prepacking the Gemm reads every page of its mapping, which it
 * then lets go. With one shared initializer those pages stayed resident for the Gather (a second
 * table's worth of RSS: 594 MiB on Qwen3-0.6B's shape), though a lookup touches only the rows it reads.
 */
function gatherTable(g: GraphBuilder, w: ConvertedWeights, embed: string, weightsFile: string): string {
  if (gemmTable(w) !== embed || w.tensors[embed].type !== DataType.FLOAT) return embed;
  const t = w.tensors[embed];
  return g.initializer({ name: `${embed}.lookup`, type: t.type, dims: t.dims, external: { location: weightsFile, offset: t.offset, length: t.length } });
}

/** The [V,H] table the output layer's Gemm reads (its own, or the tied embedding), or null when the output layer is a quantized linear. */
function gemmTable(w: ConvertedWeights): string | null {
  if (w.linears[TENSOR_NAMES.lmHead]) return null;
  const untied = `${TENSOR_NAMES.lmHead}.weight`;
  return w.tensors[untied] ? untied : `${TENSOR_NAMES.embed}.weight`;
}

/** The output layer on [N,H] → [N,V]: Gemm with transB over the [V,H] table, or MatMulNBits. */
function outputLayer(g: GraphBuilder, x: string, c: ModelConfig, w: ConvertedWeights): string {
  const table = gemmTable(w);
  if (table === null) return applyLinear(g, x, w.linears[TENSOR_NAMES.lmHead]);
  return g.op('Gemm', [x, table], { transB: 1 });
}

/**
 * Projection clamps of one layer (ablate = clip to [0,0], cap = clip to [−∞, c]), K unit directions
 * applied in turn: resid −= (p − clip(p, lo, hi)) · u with p = resid·u. A zero direction leaves the
 * stream untouched (rows and slots without a clamp).
 */
function applyProjectionClamps(g: GraphBuilder, resid: string, clamp: { dir: string; lo: string; hi: string }, l: number): string {
  const idx = g.i64([l], []);
  const dirs = g.op('Gather', [clamp.dir, idx], { axis: 1 }); // [B,K,H]
  const los = g.op('Gather', [clamp.lo, idx], { axis: 1 }); // [B,K]
  const his = g.op('Gather', [clamp.hi, idx], { axis: 1 });
  for (let k = 0; k < CLAMP_SLOTS; k++) {
    const kk = g.i64([k], []);
    const u = g.unsqueeze(g.op('Gather', [dirs, kk], { axis: 1 }), [1]); // [B,1,H]
    const lo = g.unsqueeze(g.op('Gather', [los, kk], { axis: 1 }), [1, 2]); // [B,1,1]
    const hi = g.unsqueeze(g.op('Gather', [his, kk], { axis: 1 }), [1, 2]);
    const proj = g.op('ReduceSum', [g.mul(resid, u), g.i64([-1])], { keepdims: 1 }); // [B,T,1]
    const clipped = g.op('Max', [g.op('Min', [proj, hi]), lo]);
    resid = g.sub(resid, g.mul(g.sub(proj, clipped), u));
  }
  return resid;
}
