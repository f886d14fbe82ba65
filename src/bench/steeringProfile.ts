import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConvertedWeights } from '../engine/convert/ConvertedWeights.js';
import { DecoderSession } from '../engine/DecoderSession.js';
import { buildDecoderGraph } from '../engine/graph/buildDecoderGraph.js';
import type { GraphOptions } from '../engine/graph/GraphOptions.js';
import type { NodeDef } from '../engine/onnx/onnxProto.js';
import type { ModelConfig } from '../model/config/ModelConfig.js';
import { PersonaError } from '../errors.js';
import { readJsonFile } from '../util/readJsonFile.js';
import { decoder } from './decodeTiming.js';

/**
 * The nodes of a decoder graph that carry steering: the Split of the `steer` input, the node that adds
 * its slice in every block (the Sum that also does the block's MLP residual add, or, in a clamp graph,
 * an Add), and, in a clamp graph, every node computed from `clamp_dir` / `clamp_lo` / `clamp_hi` up to
 * and including the Sub that takes the clamp off the residual stream. A Sum's share of the work that is
 * not steering is read off the same profile (see {@link steeringBaselines}).
 *
 * @example steeringNodes(buildDecoderGraph(c, w, w.weightsFile, GENERATION_GRAPH).nodes).size; // 1 + L
 */
export function steeringNodes(nodes: NodeDef[]): Set<string> {
  const out = new Set<string>();
  const steerSlices = new Set<string>();
  for (const n of nodes) {
    if (n.op === 'Split' && n.inputs[0] === 'steer') {
      out.add(n.name);
      n.outputs.forEach((o) => steerSlices.add(o));
    }
  }
  // Clamp values: tainted from the clamp inputs. A Sub whose first input is the (untainted) residual
  // stream is the clamp's last op: it counts, and its output is the residual stream again.
  const tainted = new Set(['clamp_dir', 'clamp_lo', 'clamp_hi']);
  for (const n of nodes) {
    if ((n.op === 'Add' || n.op === 'Sum') && n.inputs.some((i) => steerSlices.has(i))) {
      out.add(n.name);
      continue;
    }
    if (!n.inputs.some((i) => tainted.has(i))) continue;
    out.add(n.name);
    if (n.op === 'Sub' && !tainted.has(n.inputs[0])) continue;
    n.outputs.forEach((o) => tainted.add(o));
  }
  return out;
}

/**
 * For each steering Sum (residual + MLP output + steering slice), the node whose kernel time is the
 * same Sum's work without steering: the Add that produced its first input (the block's attention
 * residual add, `x + attnOut`, on the same [B,T,H] shapes). Steering's cost in that block is the Sum's
 * time minus that Add's, both from the same profiled steps.
 *
 * @example steeringBaselines(nodes).get('blocks.0.sum_41/Sum'); // 'blocks.0.add_37/Add'
 */
export function steeringBaselines(nodes: NodeDef[], steering: Set<string> = steeringNodes(nodes)): Map<string, string> {
  const producer = new Map<string, NodeDef>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  const out = new Map<string, string>();
  for (const n of nodes) {
    if (n.op !== 'Sum' || !steering.has(n.name)) continue;
    const p = producer.get(n.inputs[0]);
    if (p?.op !== 'Add') throw new PersonaError(`Steering Sum ${n.name} does not follow a residual Add; the profile cannot separate its steering share.`);
    out.set(n.name, p.name);
  }
  return out;
}

/** The share of a step's kernel time spent in the steering nodes, from onnxruntime's own profile. */
export interface SteeringProfile {
  /** Steering's kernel time (the steering nodes', less the residual-add part of each steering Sum) over all nodes' kernel time, over the profiled steps. */
  share: number;
  steering_us_per_step: number;
  kernel_us_per_step: number;
  steps: number;
  /** Steering nodes of the graph, and how many of them the profile timed (onnxruntime may fuse some away). */
  steering_nodes: number;
  steering_nodes_timed: number;
  /** Steering Sums whose residual-add part was taken off (the timed Sums with a timed baseline Add; see `steeringBaselines`). */
  residual_adds_subtracted: number;
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
}

/**
 * Opens a fresh session with onnxruntime's per-node profiling on (`PERSONA_ORT_PROFILE`), decodes
 * `steps` steered tokens after `ctx` cached ones, and reads the profile back: the steering nodes'
 * share of the kernel time. Kernel durations are counted by onnxruntime itself, node by node, so the
 * share does not move with the machine's load as a paired wall-clock ratio does.
 *
 * @example const p = await profileSteering(folder, manifest, config, GENERATION_GRAPH, { threads: 2, ctx: 128, steps: 16 }); p.share;
 */
export async function profileSteering(
  folder: string,
  manifest: ConvertedWeights,
  config: ModelConfig,
  graph: GraphOptions,
  o: { threads: number; ctx: number; steps: number },
): Promise<SteeringProfile> {
  const built = buildDecoderGraph(config, manifest, manifest.weightsFile, graph).nodes;
  const names = steeringNodes(built);
  const baselines = steeringBaselines(built, names);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'persona-ort-profile-'));
  const before = process.env.PERSONA_ORT_PROFILE;
  process.env.PERSONA_ORT_PROFILE = path.join(dir, 'steer');
  let session: DecoderSession;
  try {
    session = await DecoderSession.create(folder, manifest, config, graph, { threads: o.threads });
  } finally {
    if (before === undefined) delete process.env.PERSONA_ORT_PROFILE;
    else process.env.PERSONA_ORT_PROFILE = before;
  }
  try {
    const steer = new Float32Array(config.numHiddenLayers * config.hiddenSize).fill(0.01);
    const step = await decoder(session, o.ctx, 1, o.steps + 1, steer);
    await step(); // warm-up, still profiled: dropped below by counting only the last `steps` runs
    for (let i = 0; i < o.steps; i++) await step();
  } finally {
    await session.release();
  }
  try {
    const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.json'));
    if (files.length !== 1) throw new PersonaError(`onnxruntime wrote ${files.length} profile files into ${dir}; expected one.`);
    const events = (await readJsonFile(path.join(dir, files[0]))) as ProfileEvent[];
    // One "model_run" event per run: keep the node events of the last `steps` runs.
    const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').length;
    let run = 0;
    let total = 0;
    const perNode = new Map<string, number>();
    const firstKept = runs - o.steps;
    for (const e of events) {
      if (e.cat === 'Session' && e.name === 'model_run') {
        run++;
        continue;
      }
      if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time')) continue;
      // Node events of a run precede its model_run event.
      if (run < firstKept) continue;
      const node = e.name.slice(0, -'_kernel_time'.length);
      total += e.dur ?? 0;
      perNode.set(node, (perNode.get(node) ?? 0) + (e.dur ?? 0));
    }
    if (total === 0) throw new PersonaError(`onnxruntime's profile ${files[0]} holds no node timings.`);
    let steering = 0;
    let subtracted = 0;
    for (const n of names) steering += perNode.get(n) ?? 0;
    // A steering Sum also does the block's residual add: take off what the same add costs alone.
    for (const [sum, add] of baselines) {
      if (!perNode.has(sum) || !perNode.has(add)) continue;
      steering -= perNode.get(add)!;
      subtracted++;
    }
    return {
      share: steering / total,
      steering_us_per_step: steering / o.steps,
      kernel_us_per_step: total / o.steps,
      steps: o.steps,
      steering_nodes: names.size,
      steering_nodes_timed: [...names].filter((n) => perNode.has(n)).length,
      residual_adds_subtracted: subtracted,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
