import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConversionInterruptedError } from '../../src/engine/convert/ConversionInterruptedError.js';
import { cleanConversionCache, listConversionCache } from '../../src/engine/convert/conversionCache.js';
import { ensureConverted } from '../../src/engine/convert/convertWeights.js';
import { sweepStaleTempFiles } from '../../src/engine/convert/sweepStaleTempFiles.js';
import { writeRandomCheckpoint } from '../../src/bench/randomCheckpoint.js';
import { loadConfig } from '../../src/model/loadConfig.js';
import { ModelWeights } from '../../src/model/safetensors/ModelWeights.js';
import { CLI, GOLDENS, ROOT } from '../helpers/paths.js';

const tmp = (p: string) => fs.mkdtemp(path.join(os.tmpdir(), p));

async function convert(dir: string, cacheRoot: string, opts: Parameters<typeof ensureConverted>[4] = {}) {
  const warnings: string[] = [];
  const r = await ensureConverted(dir, await ModelWeights.open(dir), await loadConfig(dir), 'f32', { cacheRoot, onWarning: (m) => warnings.push(m), ...opts });
  return { ...r, warnings };
}

async function tempFiles(folder: string): Promise<string[]> {
  return (await fs.readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith('.tmp'));
}

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('the conversion cache', () => {
  it('rebuilds weights whose bytes were corrupted in place (same size), with a warning, and then verifies them', async () => {
    const cacheRoot = await tmp('pv-cc-');
    const llama = path.join(GOLDENS, 'llama');
    const first = await convert(llama, cacheRoot);
    const weights = path.join(first.folder, 'weights.bin');
    const good = await fs.readFile(weights);
    expect(first.manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    const h = await fs.open(weights, 'r+');
    await h.write(Buffer.alloc(4096, 0x55), 0, 4096, 8192);
    await h.close();
    expect((await fs.stat(weights)).size).toBe(good.length);
    const again = await convert(llama, cacheRoot);
    expect(again.warnings).toHaveLength(1);
    expect(again.warnings[0]).toMatch(
      /conversion cache in .* does not verify \(the sha256 of weights.bin is [0-9a-f]{12}…, the manifest says [0-9a-f]{12}…\); converting again/,
    );
    expect(Buffer.compare(await fs.readFile(weights), good)).toBe(0);
    const third = await convert(llama, cacheRoot);
    expect(third.warnings).toEqual([]);
  });

  it('rebuilds a truncated weights file and a manifest that is not JSON, instead of failing', async () => {
    const cacheRoot = await tmp('pv-cc-');
    const qwen = path.join(GOLDENS, 'qwen3');
    const first = await convert(qwen, cacheRoot);
    const weights = path.join(first.folder, 'weights.bin');
    await fs.truncate(weights, 1000);
    const again = await convert(qwen, cacheRoot);
    expect(again.warnings.join('\n')).toMatch(/does not verify \(weights.bin has 1000 bytes, the manifest says \d+\); converting again/);
    expect((await fs.stat(weights)).size).toBe(again.manifest.totalBytes);
    await fs.writeFile(path.join(first.folder, 'manifest.json'), '{"formatVersion": 3, "tens');
    const third = await convert(qwen, cacheRoot);
    expect(third.warnings.join('\n')).toMatch(/manifest .*manifest.json is not valid JSON; converting again/);
    expect(third.manifest.sha256).toBe(first.manifest.sha256);
  });

  it('reuses a weights file copied back with the same bytes (new inode) after verifying its sha256 once', async () => {
    const cacheRoot = await tmp('pv-cc-');
    const qwen = path.join(GOLDENS, 'qwen2');
    const first = await convert(qwen, cacheRoot);
    const weights = path.join(first.folder, 'weights.bin');
    await fs.copyFile(weights, `${weights}.copy`);
    await fs.rename(`${weights}.copy`, weights);
    const again = await convert(qwen, cacheRoot);
    expect(again.warnings).toEqual([]);
    expect(again.manifest.weightsStamp.ino).toBe((await fs.stat(weights)).ino);
    const stored = JSON.parse(await fs.readFile(path.join(first.folder, 'manifest.json'), 'utf8'));
    expect(stored.weightsStamp.ino).toBe((await fs.stat(weights)).ino);
  });

  it('refuses a checkpoint whose header disagrees with its config.json before converting anything', async () => {
    const cacheRoot = await tmp('pv-cc-');
    const copy = await tmp('pv-model-');
    for (const f of await fs.readdir(path.join(GOLDENS, 'qwen3'))) await fs.copyFile(path.join(GOLDENS, 'qwen3', f), path.join(copy, f));
    const raw = JSON.parse(await fs.readFile(path.join(copy, 'config.json'), 'utf8'));
    await fs.writeFile(path.join(copy, 'config.json'), JSON.stringify({ ...raw, num_key_value_heads: raw.num_attention_heads }));
    await expect(convert(copy, cacheRoot)).rejects.toThrow(
      /model.safetensors: tensor model.layers.0.self_attn.k_proj.weight has shape \[\d+, \d+\] but config.json implies/,
    );
    expect(await listConversionCache(cacheRoot)).toEqual([]);
  });

  it('says which cache folder it cannot write and how to move the cache', async () => {
    const root = await tmp('pv-cc-');
    const cacheRoot = path.join(root, 'cache');
    await fs.writeFile(cacheRoot, 'a file where the cache folder should be');
    await expect(convert(path.join(GOLDENS, 'llama'), cacheRoot)).rejects.toThrow(
      /Cannot write converted weights into the cache folder .*cache[/\\]converted[/\\].*: .*Set PERSONA_CACHE to a writable folder/,
    );
  });

  it('an abort signal stops a conversion between tensors and leaves neither a temp file nor a manifest', async () => {
    const cacheRoot = await tmp('pv-cc-');
    const ac = new AbortController();
    const err = await convert(path.join(GOLDENS, 'gemma3'), cacheRoot, { signal: ac.signal, onProgress: () => ac.abort() }).catch((e) => e);
    expect(err).toBeInstanceOf(ConversionInterruptedError);
    expect(err.message).toMatch(/Weight conversion stopped \(aborted\); nothing was left in the cache/);
    const [entry] = await listConversionCache(cacheRoot);
    expect(entry.status).toBe('incomplete');
    expect(await tempFiles(entry.folder)).toEqual([]);
    await expect(fs.access(path.join(entry.folder, 'manifest.json'))).rejects.toThrow();
  });

  it('Ctrl-C (SIGINT) stops a conversion before its end, removes its temp file and ends the process by the signal', async () => {
    const work = await tmp('pv-sigint-');
    const model = await writeRandomCheckpoint(path.join(work, 'model'), {
      model_type: 'qwen3',
      hidden_size: 512,
      intermediate_size: 2048,
      num_hidden_layers: 8,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      head_dim: 64,
      vocab_size: 32000,
      max_position_embeddings: 512,
      tie_word_embeddings: true,
    });
    const cacheRoot = path.join(work, 'cache');
    const dist = (p: string) => pathToFileURL(path.join(ROOT, 'dist', p)).href;
    const script = `
      const { ensureConverted } = await import(${JSON.stringify(dist('engine/convert/convertWeights.js'))});
      const { ModelWeights } = await import(${JSON.stringify(dist('model/safetensors/ModelWeights.js'))});
      const { loadConfig } = await import(${JSON.stringify(dist('model/loadConfig.js'))});
      const dir = ${JSON.stringify(model)};
      let said = false;
      await ensureConverted(dir, await ModelWeights.open(dir), await loadConfig(dir), 'q4', {
        cacheRoot: ${JSON.stringify(cacheRoot)},
        onProgress: (e) => { if (!said && e.done > 0) { said = true; process.stdout.write('converting\\n'); } else process.stdout.write('progress ' + e.done + '/' + e.total + '\\n'); },
      });
      process.stdout.write('finished\\n');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      if (out.startsWith('converting\n') && !child.killed) child.kill('SIGINT');
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    expect(err).not.toMatch(/ENOENT/);
    expect(signal).toBe('SIGINT');
    expect(code).toBe(null);
    expect(out).not.toMatch(/finished/);
    const last = [...out.matchAll(/progress (\d+)\/(\d+)/g)].pop();
    if (last) expect(Number(last[1])).toBeLessThan(Number(last[2]));
    const [entry] = await listConversionCache(cacheRoot);
    expect(await tempFiles(entry.folder)).toEqual([]);
    await expect(fs.access(path.join(entry.folder, 'manifest.json'))).rejects.toThrow();
    await fs.rm(work, { recursive: true, force: true });
  });

  it("sweeps temp files of dead writers and old ones at start-up, and keeps a live writer's fresh file", async () => {
    const cacheRoot = await tmp('pv-sweep-');
    const folder = path.join(cacheRoot, 'converted', 'm-0123456789abcdef', 'f32');
    await fs.mkdir(folder, { recursive: true });
    const pid = deadPid();
    const dead = path.join(folder, `.weights.bin.${pid}.0badf00d.tmp`);
    const justDead = path.join(folder, `.weights.bin.${pid}.3badf00d.tmp`); // within the grace period
    const live = path.join(folder, `.weights.bin.${process.pid}.1badf00d.tmp`);
    const old = path.join(folder, `.manifest.json.${process.pid}.2badf00d.tmp`);
    const unrelated = path.join(folder, 'notes.tmp');
    for (const f of [dead, justDead, live, old, unrelated]) await fs.writeFile(f, 'x'.repeat(10));
    const ago = (ms: number) => new Date(Date.now() - ms);
    await fs.utimes(old, ago(2 * 3600_000), ago(2 * 3600_000));
    await fs.utimes(dead, ago(5 * 60_000), ago(5 * 60_000));
    // ensureConverted sweeps once per cache root before it converts
    await convert(path.join(GOLDENS, 'llama'), cacheRoot);
    const left = await fs.readdir(folder);
    expect(left.sort()).toEqual([path.basename(justDead), path.basename(live), 'notes.tmp'].sort());
    await fs.utimes(justDead, ago(3 * 60_000), ago(3 * 60_000));
    expect((await sweepStaleTempFiles(cacheRoot)).map((r) => path.basename(r.file))).toEqual([path.basename(justDead)]);
    expect(await sweepStaleTempFiles(cacheRoot)).toEqual([]);
  });
});

describe('persona cache', () => {
  const cli = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, [CLI, 'cache', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });

  it('lists converted weights with size, precision, status and model, and cleans stale ones, one model, or all', async () => {
    const cacheRoot = await tmp('pv-cachecmd-');
    const copy = await tmp('pv-model-');
    for (const f of await fs.readdir(path.join(GOLDENS, 'qwen3'))) await fs.copyFile(path.join(GOLDENS, 'qwen3', f), path.join(copy, f));
    await convert(path.join(GOLDENS, 'llama'), cacheRoot);
    await convert(path.join(GOLDENS, 'qwen2'), cacheRoot);
    await convert(copy, cacheRoot);
    const later = new Date(Date.now() + 60_000);
    await fs.utimes(path.join(copy, 'model.safetensors'), later, later); // a re-download: the old conversion is never used again
    await convert(copy, cacheRoot);
    const env = { PERSONA_CACHE: cacheRoot };

    const list = cli(env);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/SIZE +PRECISION +STATUS +LAST USED \(UTC\) +REVISION +MODEL/);
    expect(list.stdout).toContain(path.join(GOLDENS, 'llama'));
    expect(list.stdout).toMatch(new RegExp(`source-changed .*${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(list.stdout).toMatch(/4 entries, [\d.]+ KiB|4 entries, [\d.]+ MiB/);
    expect(list.stdout).toMatch(/1 unusable .*persona cache clean removes them/);
    const entries = JSON.parse(cli(env, 'list', '--json').stdout);
    expect(entries.map((e: { precision: string }) => e.precision)).toEqual(['f32', 'f32', 'f32', 'f32']);

    const stale = cli(env, 'clean');
    expect(stale.status).toBe(0);
    expect(stale.stdout).toMatch(/^removed .* f32 +source-changed /m);
    expect((await listConversionCache(cacheRoot)).map((e) => e.status)).toEqual(['ok', 'ok', 'ok']);

    const dry = cli(env, 'clean', '--model', path.join(GOLDENS, 'llama'), '--dry-run');
    expect(dry.stdout).toMatch(/^would remove /m);
    expect(await listConversionCache(cacheRoot)).toHaveLength(3);
    const one = cli(env, 'clean', '--model', path.join(GOLDENS, 'llama'));
    expect(one.stdout).toMatch(/^removed .*goldens[/\\]llama$/m);
    expect((await listConversionCache(cacheRoot)).map((e) => e.model)).not.toContain(path.join(GOLDENS, 'llama'));

    const none = cli(env, 'clean', '--model', 'Nobody/nothing');
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/No converted weights of Nobody\/nothing/);

    const all = cli(env, 'clean', '--all');
    expect(all.stdout).toMatch(/Freed [\d.]+ (KiB|MiB)/);
    expect(await listConversionCache(cacheRoot)).toEqual([]);
    expect(cli(env).stdout).toMatch(/No converted weights in/);
  });

  it('names a hub snapshot by its id and revision', async () => {
    const cacheRoot = await tmp('pv-cachehub-');
    const hub = await tmp('pv-hub-');
    const snap = path.join(hub, 'models--Org--Tiny', 'snapshots', 'abc123def4567890');
    await fs.mkdir(snap, { recursive: true });
    for (const f of await fs.readdir(path.join(GOLDENS, 'llama'))) await fs.copyFile(path.join(GOLDENS, 'llama', f), path.join(snap, f));
    await convert(snap, cacheRoot);
    const [e] = await listConversionCache(cacheRoot);
    expect(e).toMatchObject({ model: 'Org/Tiny', revision: 'abc123def4567890', precision: 'f32', status: 'ok', busy: false });
    expect((await cleanConversionCache({ cacheRoot, model: 'org/tiny' })).removed).toHaveLength(1);
  });
});
