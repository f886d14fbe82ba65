import { describe, expect, it } from 'vitest';
import type { RowResult, WorkerRow } from '../../src/engine/worker/EngineWorker.js';
import { ApiError } from '../../src/server/ApiError.js';
import { chatRequestSchema, parseBody, steeringEntries } from '../../src/server/chatRequestSchema.js';
import { GenerationQueue, type GeneratingEngine } from '../../src/server/GenerationQueue.js';
import { personaNameProblem } from '../../src/server/personaName.js';
import { StopMatcher } from '../../src/server/StopMatcher.js';

/** An engine that finishes a job only when the test says so (numbered like EngineWorker's jobs). */
class FakeEngine implements GeneratingEngine {
  nextId = 1;
  jobs: { id: number; rows: WorkerRow[]; cancelled: Set<number>; onToken?: (row: number, text: string, token: number) => void; finish: () => void }[] = [];
  generate(rows: WorkerRow[], opts: { signal?: AbortSignal; onToken?: (row: number, text: string, token: number) => void }) {
    const id = this.nextId++;
    const cancelled = new Set<number>();
    const result = new Promise<RowResult[]>((resolve) => {
      const results = (all: boolean) =>
        rows.map((_, i) => ({
          text: 'ok',
          tokens: [1],
          promptTokens: 1,
          finishReason: all || cancelled.has(i) ? ('cancelled' as const) : ('eos' as const),
          ended: true,
          tokenTexts: ['ok'],
        }));
      this.jobs.push({ id, rows, cancelled, onToken: opts.onToken, finish: () => resolve(results(false)) });
      opts.signal?.addEventListener('abort', () => resolve(results(true)));
    });
    return { id, result, cancel: (row?: number) => void (row !== undefined && cancelled.add(row)) };
  }
  /** Prompts of every job's rows, job by job. */
  prompts(): unknown[][] {
    return this.jobs.map((j) => j.rows.map((r) => r.prompt));
  }
}

const row = (prompt = 'hi'): WorkerRow => ({ prompt });
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('the stop matcher', () => {
  it('cuts at the first stop string and never emits any part of it', () => {
    const m = new StopMatcher(['\n\n', 'END']);
    const pieces = ['Hello', '\n', 'wor', 'ld E', 'N', 'D and more'].map((p) => m.push(p));
    expect(pieces.join('')).toBe('Hello\nworld ');
    expect(m.stopped).toBe(true);
    expect(m.push('later')).toBe('');
  });

  it('releases held-back text when the generation ends without a stop string', () => {
    const m = new StopMatcher(['END']);
    expect(m.push('The EN')).toBe('The ');
    expect(m.flush()).toBe('EN');
    expect(m.stopped).toBe(false);
  });

  it('passes text straight through when there are no stop strings', () => {
    const m = new StopMatcher([]);
    expect(m.push('a\n\nb')).toBe('a\n\nb');
  });
});

describe('persona names', () => {
  it('accept plain names and refuse anything that looks like a path', () => {
    for (const ok of ['formal', 'vivid-2', 'my_persona.v1', 'A']) expect(personaNameProblem(ok)).toBeNull();
    for (const bad of ['../formal', 'a/b', 'a\\b', '..', '.hidden', '', 'x'.repeat(65), 'a..b', '/etc/passwd', 'formal\u0000', 'naïve'])
      expect(personaNameProblem(bad), bad).not.toBeNull();
  });
});

describe('the chat request schema', () => {
  const schema = chatRequestSchema({ maxTokens: 512, maxN: 8 });
  const base = { messages: [{ role: 'user', content: 'Hi' }] };
  const fails = (body: unknown) => {
    try {
      parseBody(schema, body);
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      return (err as ApiError).message;
    }
    throw new Error('expected a validation error');
  };

  it('reads persona and alpha as one steering entry, and steering lists as given', () => {
    expect(steeringEntries(parseBody(schema, { ...base, persona: 'formal', alpha: -4, layer: 2 }))).toEqual([
      { persona: 'formal', alpha: -4, layer: 2, positions: undefined, units: undefined },
    ]);
    const two = [
      { persona: 'formal', alpha: 2 },
      { persona: 'vivid', alpha: -1, layer: 4 },
    ];
    expect(steeringEntries(parseBody(schema, { ...base, steering: two }))).toEqual(two);
    expect(steeringEntries(parseBody(schema, base))).toEqual([]);
  });

  it('names the field that is wrong', () => {
    expect(fails({ ...base, persona: 'formal', alpha: '4' })).toMatch(/^alpha: .*expected number/);
    expect(fails({ ...base, persona: '../formal', alpha: 1 })).toMatch(/^persona: .*path/);
    expect(fails({ ...base, max_tokens: 10_000_000 })).toMatch(/^max_tokens: must be at most 512/);
    expect(fails({ ...base, persona: 'formal' })).toMatch(/^alpha: alpha is required/);
    expect(fails({ ...base, alpha: 3 })).toMatch(/^persona: /);
    expect(fails({ ...base, persona: 'formal', alpha: 1, steering: [{ persona: 'vivid', alpha: 1 }] })).toMatch(/either/);
    expect(fails({ ...base, top_logprobs: 3 })).toMatch(/logprobs: true/);
    expect(fails({ messages: [] })).toMatch(/^messages: /);
    expect(fails({ ...base, temperature: 5 })).toMatch(/^temperature: /);
    expect(fails({ ...base, positions: 'everywhere', persona: 'formal', alpha: 1 })).toMatch(/^positions: /);
  });
});

describe('the generation queue', () => {
  it('refuses requests beyond max-batch + max-queue rows with a 429 and takes them again once room frees', async () => {
    const engine = new FakeEngine();
    const q = new GenerationQueue(engine, { maxBatch: 2, maxQueue: 1, quietMs: 1 });
    const a = q.submit([row('a0'), row('a1')]);
    const b = q.submit([row('b')]);
    let err: unknown;
    try {
      q.submit([row()]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(429);
    expect(() => q.submit([row(), row(), row()])).toThrow(/at most 2/);
    await tick(5);
    expect(engine.prompts()).toEqual([['a0', 'a1']]);
    engine.jobs[0].finish();
    await a;
    const c = q.submit([row('c')]);
    await tick(5);
    expect(engine.prompts()).toEqual([
      ['a0', 'a1'],
      ['b', 'c'],
    ]);
    engine.jobs[1].finish();
    await Promise.all([b, c]);
    expect(q.load).toEqual({ dispatched: 0, waiting: 0 });
  });

  it('runs one batch at a time as one engine job, filled in arrival order up to max-batch rows', async () => {
    const engine = new FakeEngine();
    const q = new GenerationQueue(engine, { maxBatch: 3, maxQueue: 10, quietMs: 1 });
    const done = [q.submit([row('p0')]), q.submit([row('p1'), row('p2')]), q.submit([row('p3'), row('p4')]), q.submit([row('p5')])];
    expect(engine.prompts()).toEqual([['p0', 'p1', 'p2']]); // a full batch starts at once
    expect(q.load).toEqual({ dispatched: 3, waiting: 3 });
    await tick(5);
    expect(engine.jobs).toHaveLength(1); // one batch at a time
    engine.jobs[0].finish();
    await tick(5);
    expect(engine.prompts()).toEqual([
      ['p0', 'p1', 'p2'],
      ['p3', 'p4', 'p5'],
    ]);
    engine.jobs[1].finish();
    const results = await Promise.all(done);
    expect(results.map((r) => r.length)).toEqual([1, 2, 2, 1]);
    expect(q.load).toEqual({ dispatched: 0, waiting: 0 });
  });

  it("routes each row's tokens to its own request", async () => {
    const engine = new FakeEngine();
    const q = new GenerationQueue(engine, { maxBatch: 4, maxQueue: 10, quietMs: 1 });
    const seen: string[] = [];
    const a = q.submit([row('a0'), row('a1')], { onToken: (r, text) => seen.push(`a${r}:${text}`) });
    const b = q.submit([row('b0')], { onToken: (r, text) => seen.push(`b${r}:${text}`) });
    expect(engine.jobs).toHaveLength(0); // arrivals close together are gathered first
    await tick(5);
    const job = engine.jobs[0];
    expect(job.rows.map((r) => r.prompt)).toEqual(['a0', 'a1', 'b0']);
    job.onToken!(2, 'B', 7);
    job.onToken!(0, 'A', 5);
    job.onToken!(1, 'C', 6);
    job.finish();
    await Promise.all([a, b]);
    expect(seen).toEqual(['b0:B', 'a0:A', 'a1:C']);
  });

  it('waits briefly for the clients of the last batch to come back, so the next batch is full again', async () => {
    const engine = new FakeEngine();
    const q = new GenerationQueue(engine, { maxBatch: 4, maxQueue: 10, gatherMs: 150, quietMs: 1 });
    const first = [q.submit([row('a')]), q.submit([row('b')]), q.submit([row('c')])];
    await tick(5);
    expect(engine.prompts()).toEqual([['a', 'b', 'c']]);
    engine.jobs[0].finish();
    await Promise.all(first);
    // Three clients were served: the first two to come back wait for the third.
    const back = [q.submit([row('d')])];
    await tick(20);
    back.push(q.submit([row('e')]));
    await tick(20);
    expect(engine.jobs).toHaveLength(1);
    back.push(q.submit([row('f')]));
    await tick(5);
    expect(engine.prompts()[1]).toEqual(['d', 'e', 'f']);
    engine.jobs[1].finish();
    await Promise.all(back);
    // Only one comes back: it starts when the gathering time is over, and the target follows the load down.
    const g = q.submit([row('g')]);
    await tick(60);
    expect(engine.jobs).toHaveLength(2);
    await tick(150);
    expect(engine.prompts()[2]).toEqual(['g']);
    engine.jobs[2].finish();
    await g;
    // Long after the last batch, a lone request starts almost at once.
    await tick(200);
    const h = q.submit([row('h')]);
    await tick(5);
    expect(engine.prompts()[3]).toEqual(['h']);
    engine.jobs[3].finish();
    await h;
  });

  it('drops a waiting request whose client left, cancels the rows of one that is generating, and stops a job nobody waits for', async () => {
    const engine = new FakeEngine();
    const q = new GenerationQueue(engine, { maxBatch: 3, maxQueue: 5, quietMs: 1 });
    const warm = q.submit([row('warm')]);
    await tick(5);
    const gone = new AbortController();
    const stays = new AbortController();
    const r1 = q.submit([row('gone0'), row('gone1')], { signal: gone.signal });
    const r2 = q.submit([row('stays')], { signal: stays.signal });
    const waitingLeaves = new AbortController();
    const r3 = q.submit([row('never')], { signal: waitingLeaves.signal });
    waitingLeaves.abort();
    expect((await r3)[0].finishReason).toBe('cancelled');
    engine.jobs[0].finish();
    await warm;
    await tick(60);
    const job = engine.jobs[1];
    expect(job.rows.map((r) => r.prompt)).toEqual(['gone0', 'gone1', 'stays']);
    gone.abort();
    expect([...job.cancelled].sort()).toEqual([0, 1]);
    expect(q.load.dispatched).toBe(1); // the rows of a request that left free its places at once
    stays.abort(); // now nobody waits: the whole job stops
    expect((await r1).map((r) => r.finishReason)).toEqual(['cancelled', 'cancelled']);
    expect((await r2)[0].finishReason).toBe('cancelled');
    expect(engine.prompts().flat()).not.toContain('never');
  });
});
