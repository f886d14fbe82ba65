import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CLI, GOLDENS } from '../helpers/paths.js';
import { checkpointTensors } from '../../src/bench/randomCheckpoint.js';
import { readFileSync } from 'node:fs';

describe('persona bench', () => {
  it('measures every precision against bounds measured in the same run and prints the required fields', () => {
    const config = path.join(GOLDENS, 'qwen3', 'config.json');
    const r = spawnSync(process.execPath, [CLI, 'bench', '--config', config, '--precision', 'f32,q4', '--steps', '2', '--reps', '1', '--json'], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.bounds.read_bandwidth_GBps).toBeGreaterThan(0);
    expect(report.bounds.matmul_GFLOPs).toBeGreaterThan(0);
    for (const p of ['f32', 'q4']) {
      const x = report.results[p];
      for (const k of ['decode_tok_s', 'prefill_tok_s']) expect(Object.values(x[k]).every((v) => (v as number) > 0)).toBe(true);
      expect(x.bound_decode_tok_s).toBeGreaterThan(0);
      expect(x.bound_prefill_tok_s).toBeGreaterThan(0);
      expect(Number.isFinite(x.steering_overhead)).toBe(true);
      expect(x.rss_mib).toBeGreaterThan(10);
    }
    // q4 reads fewer bytes per token than f32
    expect(report.results.q4.bytes_per_token).toBeLessThan(report.results.f32.bytes_per_token / 3);
  });

  it('lays out a random checkpoint with exactly the tensors of the config', () => {
    const raw = JSON.parse(readFileSync(path.join(GOLDENS, 'qwen3', 'config.json'), 'utf8'));
    const names = checkpointTensors(raw).map((t) => t.name);
    expect(names).toContain('model.layers.2.self_attn.q_norm.weight');
    expect(names).not.toContain('lm_head.weight'); // tied
    expect(names.length).toBe(1 + 3 * 11 + 1);
  });
});
