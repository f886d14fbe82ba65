import { describe, expect, it } from 'vitest';
import { profileSteering, steeringBaselines, steeringNodes } from '../../src/bench/steeringProfile.js';
import { CLAMP_GRAPH, GENERATION_GRAPH } from '../../src/engine/graph/GraphOptions.js';
import { buildDecoderGraph } from '../../src/engine/graph/buildDecoderGraph.js';
import { openDecoder } from '../../src/engine/openDecoder.js';
import { STYLIST } from '../helpers/paths.js';

describe('steering share from onnxruntime profile', () => {
  it('finds the steer split and one steering Sum per block (its residual Add as baseline), and the clamp ops only in the clamp graph', async () => {
    const { session, config: c, manifest: m } = await openDecoder(STYLIST, { precision: 'f32', threads: 1 });
    await session.release();
    const gen = buildDecoderGraph(c, m, m.weightsFile, GENERATION_GRAPH).nodes;
    const names = steeringNodes(gen);
    expect(names.size).toBe(1 + c.numHiddenLayers);
    const ops = gen
      .filter((n) => names.has(n.name))
      .map((n) => n.op)
      .sort();
    expect(ops).toEqual(['Split', ...new Array(c.numHiddenLayers).fill('Sum')].sort());
    // Each Sum's baseline is the Add producing its residual input: same shapes, no steering.
    const base = steeringBaselines(gen);
    expect(base.size).toBe(c.numHiddenLayers);
    const byName = new Map(gen.map((n) => [n.name, n]));
    for (const [sum, add] of base) {
      expect(byName.get(sum)!.op).toBe('Sum');
      expect(byName.get(add)!.op).toBe('Add');
      expect(byName.get(add)!.outputs[0]).toBe(byName.get(sum)!.inputs[0]);
      expect(names.has(add)).toBe(false);
    }
    const clamp = steeringNodes(buildDecoderGraph(c, m, m.weightsFile, CLAMP_GRAPH).nodes);
    expect(clamp.size).toBeGreaterThan(names.size + c.numHiddenLayers * 4 * 5);
    // Nothing outside steering: a graph without it has no steering nodes.
    expect(steeringNodes(buildDecoderGraph(c, m, m.weightsFile, { ...GENERATION_GRAPH, steering: false }).nodes).size).toBe(0);
  });

  it('reads the steering nodes kernel time out of a real profile of steered decode steps', async () => {
    const { session, config: c, manifest: m, folder } = await openDecoder(STYLIST, { precision: 'f32', threads: 1 });
    await session.release();
    const p = await profileSteering(folder, m, c, GENERATION_GRAPH, { threads: 1, ctx: 16, steps: 4 });
    expect(p.steps).toBe(4);
    expect(p.steering_nodes_timed).toBe(p.steering_nodes);
    expect(p.residual_adds_subtracted).toBe(c.numHiddenLayers);
    expect(p.share).toBeGreaterThan(0);
    expect(p.share).toBeLessThan(1);
    expect(p.share).toBeCloseTo(p.steering_us_per_step / p.kernel_us_per_step, 12);
    expect(process.env.PERSONA_ORT_PROFILE).toBeUndefined();
  });
});
