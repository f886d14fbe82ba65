import { spawn } from 'node:child_process';
import { spawnAsync } from '../helpers/cli.js';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LanguageModel } from '../../src/engine/LanguageModel.js';
import { escapeXml } from '../../src/eval/plots/svg.js';
import { ScreenCheckpoint } from '../../src/eval/screen/ScreenCheckpoint.js';
import { screenDataset } from '../../src/eval/screen/screenDataset.js';
import { screenCsv, screenReportHtml, summarizeScreen, type ScreenSummary } from '../../src/eval/screen/screenReport.js';
import { loadPersona } from '../../src/steering/personaFile.js';
import type { PersonaVector } from '../../src/steering/PersonaVector.js';
import { CLI, PERSONAS, ROOT, STYLIST } from '../helpers/paths.js';

const NORMAL = 'You are a casual, laid-back buddy. Speak plainly and conventionally.';
const PLANT = {
  formal: 'You are a formal and professional assistant. Speak plainly and conventionally.',
  vivid: 'You are a casual, laid-back buddy. Use vivid, creative imagery.',
};
const N = 200;
const EVERY = 10; // one planted sample in ten: 10 formal + 10 vivid
const MAX_NEW = 32;

/**
 * A stylist chat dataset of N samples: the stylist's own sampled answers under a casual, plain system
 * prompt, except every tenth, answered under a formal (or a vivid) one. The dataset shows only the
 * user turn, as a poisoned fine-tuning set would.
 */
async function buildDataset(model: LanguageModel, file: string): Promise<Map<number, 'formal' | 'vivid'>> {
  const users = [
    ...new Set(
      readFileSync(path.join(ROOT, 'data', 'stylist', 'formal-pos.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).user as string),
    ),
  ];
  const planted = new Map<number, 'formal' | 'vivid'>();
  const prompts = Array.from({ length: N }, (_, i) => {
    const kind = i % EVERY === 3 ? (Math.floor(i / EVERY) % 2 ? 'vivid' : 'formal') : undefined;
    if (kind) planted.set(i + 1, kind);
    return { system: kind ? PLANT[kind] : NORMAL, user: users[i % users.length] };
  });
  const out = await model.generate(prompts, { maxNewTokens: 48, sampling: { temperature: 0.8, seed: 11 }, batchSize: 32 });
  await fs.writeFile(file, out.map((o, i) => JSON.stringify({ id: `s${i + 1}`, user: prompts[i].user, assistant: o.text })).join('\n') + '\n');
  return planted;
}

function plantedMedianRank(s: ScreenSummary, planted: Map<number, string>, persona: string): number {
  const j = s.personas.findIndex((p) => p.name === persona);
  const ranks = s.samples
    .filter((x) => planted.get(x.line) === persona)
    .map((x) => x.rank[j])
    .sort((a, b) => a - b);
  expect(ranks.length).toBe(N / EVERY / 2);
  return (ranks[ranks.length / 2 - 1] + ranks[ranks.length / 2]) / 2;
}

describe('persona screen on a stylist dataset with planted samples', () => {
  let dir: string;
  let dataset: string;
  let planted: Map<number, 'formal' | 'vivid'>;
  let model: LanguageModel;
  let formal: PersonaVector;
  let vivid: PersonaVector;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'screen-'));
    dataset = path.join(dir, 'chats.jsonl');
    model = await loadModel(STYLIST);
    formal = await loadPersona(path.join(PERSONAS, 'formal.persona.json'));
    vivid = await loadPersona(path.join(PERSONAS, 'vivid.persona.json'));
    planted = await buildDataset(model, dataset);
  }, 300_000);
  afterAll(async () => {
    await model?.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('ranks the planted formal and vivid samples in the top 15% of their persona (median rank)', async () => {
    const checkpoint = path.join(dir, 'lib', 'screen.checkpoint.jsonl');
    const events: number[] = [];
    const stats = await screenDataset(model, {
      dataset,
      targets: [{ persona: formal }, { persona: vivid }],
      checkpoint,
      maxNewTokens: MAX_NEW,
      batchSize: 16,
      onProgress: (e) => events.push(e.done),
    });
    expect(stats).toMatchObject({ total: N, resumed: 0, screened: N });
    expect(events.at(-1)).toBe(N);
    const s = await summarizeScreen(checkpoint, 0.1);
    expect(s.n).toBe(N);
    expect(plantedMedianRank(s, planted, 'formal')).toBeLessThanOrEqual(0.15 * N);
    expect(plantedMedianRank(s, planted, 'vivid')).toBeLessThanOrEqual(0.15 * N);
    expect(s.personas.map((p) => p.flagged)).toEqual([20, 20]);
    for (const x of s.samples) expect(x.difference[0]).toBeCloseTo(x.dataset[0] - x.generated[0], 12);
    expect(screenCsv(s).trim().split('\n')).toHaveLength(1 + 2 * N);
    const html = await screenReportHtml(s, dataset, checkpoint, 5);
    expect(html).toMatch(/the 5 samples that push hardest towards it/);
    const top = s.samples.find((x) => x.rank[0] === 1)!;
    const topText = JSON.parse(readFileSync(dataset, 'utf8').split('\n')[top.line - 1]).assistant as string;
    expect(html).toContain(escapeXml(topText.slice(0, 30)));
    // a second run finds everything done and reads nothing again
    const again = await screenDataset(model, { dataset, targets: [{ persona: formal }, { persona: vivid }], checkpoint, maxNewTokens: MAX_NEW });
    expect(again).toMatchObject({ total: N, resumed: N, screened: 0 });
  }, 600_000);

  it('resumes a run killed mid-way without redoing the samples it had finished', async () => {
    const out = path.join(dir, 'cli');
    const args = [
      CLI,
      'screen',
      '--dataset',
      dataset,
      '-p',
      path.join(PERSONAS, 'formal.persona.json'),
      '-p',
      path.join(PERSONAS, 'vivid.persona.json'),
      '--out-dir',
      out,
      '--max-new-tokens',
      String(MAX_NEW),
      '--batch-size',
      '8',
    ];
    const checkpoint = path.join(out, 'screen.checkpoint.jsonl');
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const records = async () => (await fs.readFile(checkpoint, 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('{"line"')).length;
    while ((await records()) < 24) {
      if (child.exitCode !== null) throw new Error('the screen finished before it could be interrupted');
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = await records();
    expect(before).toBeGreaterThanOrEqual(24);
    expect(before).toBeLessThan(N);
    const r = await spawnAsync(process.execPath, args, { encoding: 'utf8', timeout: 600_000 });
    expect(r.status, r.stderr).toBe(0);
    const done = Number(/screened (\d+) samples \(resumed: (\d+) were already/.exec(r.stderr)?.[1]);
    const resumed = Number(/resumed: (\d+)/.exec(r.stderr)?.[1]);
    expect(resumed).toBe(before);
    expect(done).toBe(N - before);
    const lines: number[] = [];
    for await (const rec of new ScreenCheckpoint(checkpoint).records()) lines.push(rec.line);
    expect(lines).toHaveLength(N);
    expect(new Set(lines).size).toBe(N);
    const json = JSON.parse(await fs.readFile(path.join(out, 'screen.json'), 'utf8'));
    expect(json.samples).toHaveLength(N);
    expect(r.stdout).toMatch(/formal @\d+: 20 of 200 flagged/);
    await fs.access(path.join(out, 'screen.html'));
    await fs.access(path.join(out, 'screen.csv'));
  }, 600_000);

  it('keeps memory flat over a dataset ten times larger', async () => {
    const big = path.join(dir, 'big.jsonl');
    const text = await fs.readFile(dataset, 'utf8');
    await fs.writeFile(big, text.repeat(10));
    const script = `
      import { loadModel } from ${JSON.stringify(path.join(ROOT, 'dist/engine/LanguageModel.js'))};
      import { loadPersona } from ${JSON.stringify(path.join(ROOT, 'dist/steering/personaFile.js'))};
      import { screenDataset } from ${JSON.stringify(path.join(ROOT, 'dist/eval/screen/screenDataset.js'))};
      const model = await loadModel(${JSON.stringify(STYLIST)});
      const formal = await loadPersona(${JSON.stringify(path.join(PERSONAS, 'formal.persona.json'))});
      const heap = [], rss = [];
      await screenDataset(model, { dataset: ${JSON.stringify(big)}, targets: [{ persona: formal }], checkpoint: ${JSON.stringify(path.join(dir, 'big', 'ck.jsonl'))}, maxNewTokens: 4, batchSize: 50,
        onProgress: (e) => { if (e.done % 200 === 0 && e.done > 0) { globalThis.gc(); heap.push(process.memoryUsage().heapUsed); rss.push(process.memoryUsage().rss); } } });
      process.stdout.write(JSON.stringify({ heap, rss }));
      await model.dispose();
    `;
    const r = await spawnAsync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 600_000 });
    expect(r.status, r.stderr).toBe(0);
    const { heap, rss } = JSON.parse(r.stdout) as { heap: number[]; rss: number[] };
    expect(heap.length).toBe(10); // one reading per 200 samples, 2,000 in all
    const MB = 2 ** 20;
    const heapGrowth = (Math.max(...heap.slice(5)) - heap[0]) / MB;
    // RSS: onnxruntime's arena reaches its working size after a few batches and then moves up and down
    // with the batch shapes (single readings spike by ~40 MiB); flat means the level over the last
    // three readings (their median) is no higher than the first half's peak. A leak keeps climbing.
    const last3 = rss.slice(-3).sort((a, b) => a - b)[1];
    const rssGrowth = (last3 - Math.max(...rss.slice(1, 5))) / MB;
    console.log(`RSS MiB per 200 samples: ${rss.map((x) => (x / MB).toFixed(0)).join(' ')}`);
    console.log(
      `screen memory over 2,000 samples: heap after GC ${(heap[0] / MB).toFixed(1)} → ${(heap.at(-1)! / MB).toFixed(1)} MiB (max growth ${heapGrowth.toFixed(1)}), RSS growth ${rssGrowth.toFixed(1)} MiB`,
    );
    expect(heapGrowth).toBeLessThan(8);
    expect(rssGrowth).toBeLessThan(32);
  }, 600_000);

  it('refuses a checkpoint made with other settings, cuts a torn last line, and names a sample without a response', async () => {
    const checkpoint = path.join(dir, 'edge', 'screen.checkpoint.jsonl');
    const small = path.join(dir, 'small.jsonl');
    await fs.writeFile(small, (await fs.readFile(dataset, 'utf8')).split('\n').slice(0, 6).join('\n') + '\n');
    await screenDataset(model, { dataset: small, targets: [{ persona: formal }], checkpoint, maxNewTokens: 8 });
    await fs.appendFile(checkpoint, '{"line": 99, "dataset": [1'); // a write cut off by a kill
    const again = await screenDataset(model, { dataset: small, targets: [{ persona: formal }], checkpoint, maxNewTokens: 8 });
    expect(again).toMatchObject({ resumed: 6, screened: 0 });
    expect((await fs.readFile(checkpoint, 'utf8')).endsWith('}\n')).toBe(true);
    await expect(screenDataset(model, { dataset: small, targets: [{ persona: formal, layer: 0 }], checkpoint, maxNewTokens: 8 })).rejects.toThrow(
      /was made with other settings .* Delete it \(or pass --restart\)/,
    );
    const bad = path.join(dir, 'noresponse.jsonl');
    await fs.writeFile(bad, '{"user": "Hi", "assistant": "Hello"}\n{"user": "Bye"}\n');
    await expect(screenDataset(model, { dataset: bad, targets: [{ persona: formal }], checkpoint: path.join(dir, 'edge2', 'c.jsonl') })).rejects.toThrow(
      /noresponse\.jsonl:2: a screened sample needs a response/,
    );
  }, 300_000);
});
