import path from 'node:path';
import { ModelFileError } from '../../errors.js';
import { SafetensorsFile } from '../../model/safetensors/index.js';
import { readJsonFileIfValid } from '../../util/readJsonFile.js';
import type { DecoderSession } from '../DecoderSession.js';
import { interventionAt } from '../generate/Intervention.js';
import { generateBatch } from '../generate/generateBatch.js';

export interface TensorCheck {
  name: string;
  maxAbs: number;
  /** max |Δ| / max |ref| over the compared (unpadded) positions. */
  maxRel: number;
  ok: boolean;
}

export interface GreedyCheck {
  name: string;
  expected: number[];
  actual: number[];
  agree: number;
  ok: boolean;
}

export interface VerifyReport {
  tensors: TensorCheck[];
  greedy: GreedyCheck[];
  tolerance: number;
  ok: boolean;
}

/** Steering named by a golden: alpha · unit vector added after block `layer`. */
interface GoldenMeta {
  steer_layer?: number;
  steer_alpha?: number;
}

/**
 * Runs a model (opened with the debug graph) on the inputs of a reference file laid out like
 * `fixtures/goldens/<arch>/golden.safetensors` and compares logits, every layer's residual stream,
 * the final norm, steered outputs and greedy continuations (cached and recomputed).
 *
 * @example const report = await verifyGolden(session, 'golden.safetensors'); report.ok
 */
export async function verifyGolden(session: DecoderSession, goldenFile: string, tolerance = 1e-4): Promise<VerifyReport> {
  const gold = await SafetensorsFile.open(goldenFile);
  // golden.json is optional unless steer/gen keys are present
  const meta = ((await readJsonFileIfValid(path.join(path.dirname(goldenFile), 'golden.json'))) ?? {}) as GoldenMeta;
  const c = session.config;
  const L = c.numHiddenLayers;
  const H = c.hiddenSize;
  const V = c.vocabSize;
  const has = (k: string) => gold.tensors.has(k);
  const ids = async (k: string) => Array.from(new BigInt64Array((await gold.readBytes(k)).slice().buffer), Number);
  const tensors: TensorCheck[] = [];
  const greedy: GreedyCheck[] = [];
  const hiddenNames = [...Array.from({ length: L + 1 }, (_, i) => `hidden_${i}`), 'final_norm'];

  const steering = (): void => {
    if (meta.steer_layer === undefined || meta.steer_alpha === undefined)
      throw new ModelFileError(`${goldenFile} has steer.* tensors but no golden.json beside it naming steer_layer and steer_alpha.`);
  };
  const steerDelta = async () => {
    const v = await gold.readFloat32('steer.vector');
    const d = new Float32Array(L * H);
    for (let i = 0; i < H; i++) d[meta.steer_layer! * H + i] = meta.steer_alpha! * v[i];
    return d;
  };

  const compareForward = async (prefix: string, inputKey: string, mask: number[] | null, positions: number[] | null, delta?: Float32Array) => {
    const info = gold.info(inputKey);
    const [B, T] = info.shape;
    const inputIds = await ids(inputKey);
    const keyMask = new Uint8Array(mask ?? new Array(B * T).fill(1));
    const pos = positions ?? Array.from({ length: B * T }, (_, i) => i % T);
    const res = await session.run({
      inputIds,
      batch: B,
      seq: T,
      positions: pos,
      keyMask,
      steer: delta ? { delta: tileRows(delta, B) } : undefined,
      extraOutputs: hiddenNames,
    });
    const valid = (b: number, t: number) => keyMask[b * T + t] === 1;
    tensors.push(compare(`${prefix}.logits`, await gold.readFloat32(`${prefix}.logits`), res.allLogits!, B, T, V, valid, tolerance));
    const refHidden = await gold.readFloat32(`${prefix}.hidden`);
    for (let i = 0; i <= L; i++) {
      tensors.push(
        compare(`${prefix}.hidden[${i}]`, refHidden.subarray(i * B * T * H, (i + 1) * B * T * H), res.extra[`hidden_${i}`], B, T, H, valid, tolerance),
      );
    }
    if (has(`${prefix}.final_norm`))
      tensors.push(compare(`${prefix}.final_norm`, await gold.readFloat32(`${prefix}.final_norm`), res.extra.final_norm, B, T, H, valid, tolerance));
  };

  if (has('single.input_ids')) await compareForward('single', 'single.input_ids', null, null);
  if (has('batch.input_ids')) {
    const mask = await ids('batch.attention_mask');
    const pos = await ids('batch.position_ids');
    await compareForward('batch', 'batch.input_ids', mask, pos);
  }
  if (has('steer.vector')) {
    steering();
    await compareForward('steer', 'single.input_ids', null, null, await steerDelta());
  }
  if (has('gen.prompt')) {
    const prompt = await ids('gen.prompt');
    const stopNone = { stopTokenIds: [] as number[], padTokenId: 0 };
    for (const [name, key, steer] of [
      ['gen.plain', 'gen.plain', false],
      ['gen.steered', 'gen.steered', true],
    ] as const) {
      if (!has(key)) continue;
      const expected = await ids(key);
      const intervention = steer ? (steering(), interventionAt('all', { delta: await steerDelta(), clamps: [] })) : null;
      for (const noCache of [false, true]) {
        const [row] = await generateBatch(session, [{ promptIds: prompt, maxNewTokens: expected.length, intervention }], { ...stopNone, noCache });
        const agree = row.tokens.filter((t, i) => t === expected[i]).length;
        greedy.push({ name: `${name} (${noCache ? 'recompute' : 'cached'})`, expected, actual: row.tokens, agree, ok: agree === expected.length });
      }
    }
  }
  return { tensors, greedy, tolerance, ok: tensors.every((t) => t.ok) && greedy.every((g) => g.ok) };
}

function compare(
  name: string,
  ref: Float32Array,
  out: Float32Array,
  B: number,
  T: number,
  W: number,
  valid: (b: number, t: number) => boolean,
  tol: number,
): TensorCheck {
  let maxAbs = 0;
  let maxRef = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      if (!valid(b, t)) continue;
      const o = (b * T + t) * W;
      for (let i = 0; i < W; i++) {
        const d = Math.abs(ref[o + i] - out[o + i]);
        if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
        maxRef = Math.max(maxRef, Math.abs(ref[o + i]));
      }
    }
  }
  const maxRel = maxRef > 0 ? maxAbs / maxRef : maxAbs;
  return { name, maxAbs, maxRel, ok: maxRel <= tol };
}

/** One [L·H] delta repeated for each of B rows ([B·L·H]). */
function tileRows(delta: Float32Array, B: number): Float32Array {
  if (B === 1) return delta;
  const out = new Float32Array(B * delta.length);
  for (let b = 0; b < B; b++) out.set(delta, b * delta.length);
  return out;
}
