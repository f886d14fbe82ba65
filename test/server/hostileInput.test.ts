import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors } from '../../src/model/safetensors/writeSafetensors.js';
import { PERSONAS } from '../helpers/paths.js';
import { postJson, startTestServer, type TestServer } from './serverFixture.js';

let t: TestServer;
let chat: string;

beforeAll(async () => {
  t = await startTestServer();
  chat = `${t.server.url}/v1/chat/completions`;
});
afterAll(async () => {
  await t?.close();
});

const user = [{ role: 'user', content: 'Thank Ana for the tea.' }];

/** The server still answers a plain request. */
async function stillServes(): Promise<void> {
  const r = await postJson(chat, { messages: user, max_tokens: 4, temperature: 0 });
  expect(r.status).toBe(200);
  expect(r.body.choices[0].message.content).toMatch(/\w/);
}

/** Every file under the personas folder with its bytes, to prove nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await fs.readdir(dir)).sort()) out[f] = (await fs.readFile(path.join(dir, f))).toString('base64');
  return out;
}

const formalMeta = async () => JSON.parse(await fs.readFile(path.join(PERSONAS, 'formal.persona.json'), 'utf8'));
// The sidecar's name is content-addressed: the JSON's `vectors` field says which file it is.
const formalVectors = async () => fs.readFile(path.join(PERSONAS, (await formalMeta()).vectors));

describe('hostile and malformed requests', () => {
  it.each([
    ['malformed JSON', '{"messages": [', 400, /not valid JSON/],
    ['an empty body', '', 400, /empty/],
    ['an unknown persona', { messages: user, persona: 'nobody', alpha: 4 }, 404, /No persona named "nobody"/],
    ['../ in a persona name', { messages: user, persona: '../personas/formal', alpha: 4 }, 400, /persona: .*looks like a path/],
    ['a path separator in a persona name', { messages: user, persona: 'sub/formal', alpha: 4 }, 400, /persona: .*looks like a path/],
    ['a backslash in a persona name', { messages: user, persona: '..\\formal', alpha: 4 }, 400, /persona: .*looks like a path/],
    ['an absolute path as persona', { messages: user, persona: '/etc/passwd', alpha: 4 }, 400, /persona: /],
    ['alpha as a string', { messages: user, persona: 'formal', alpha: '4' }, 400, /alpha: .*expected number, received string/],
    ['a huge max_tokens', { messages: user, max_tokens: 1e9 }, 400, /max_tokens: must be at most 512/],
    ['max_tokens past the context', { messages: user, max_tokens: 505 }, 400, /context is 512 tokens.*at most \d+/],
    ['a layer out of range', { messages: user, persona: 'formal', alpha: 1, layer: 6 }, 400, /layer: Layer 6 is out of range/],
    ['a message without content', { messages: [{ role: 'user' }] }, 400, /messages\.0\.content/],
    ['a non-object body', '[1,2,3]', 400, /expected object/],
  ])('answers %s with a clear 4xx, and keeps serving', async (_what, body, status, message) => {
    const r = await postJson(chat, body);
    expect(r.status).toBe(status);
    expect(r.body.error.message).toMatch(message);
    expect(typeof r.body.error.type).toBe('string');
    await stillServes();
  });

  it('refuses an oversized body with 413 before reading it, and keeps serving', async () => {
    const r = await postJson(chat, { messages: [{ role: 'user', content: 'x'.repeat(1_200_000) }] });
    expect(r.status).toBe(413);
    expect(r.body.error.message).toMatch(/larger than this server accepts/);
    await stillServes();
  });

  it('refuses requests that name the server by a non-local host (DNS rebinding)', async () => {
    // fetch sets Host itself; a raw request lets the test send another.
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${t.server.url}/v1/models`, { headers: { host: 'evil.example:8080' } }, (res) => resolve(res.statusCode!));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    await stillServes();
  });

  it('cancels the generation of a streaming client that disconnects, and keeps serving', async () => {
    const ac = new AbortController();
    const before = new Set(t.records.keys());
    // Greedy formal +8 at layer 1 repeats until the length limit: a long generation to interrupt.
    const res = await fetch(chat, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: user, max_tokens: 400, temperature: 0, persona: 'formal', alpha: 8, layer: 1, stream: true }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    for (let i = 0; i < 3; i++) await reader.read();
    ac.abort();
    await expect.poll(() => [...t.records.values()].find((r) => !before.has(r.id)), { timeout: 10_000 }).toBeTruthy();
    const rec = [...t.records.values()].find((r) => !before.has(r.id))!;
    expect(rec.cancelled).toBe(true);
    expect(rec.usage.completion_tokens).toBeLessThan(400);
    await stillServes();
  });

  it('cancels a non-streaming request whose client leaves', async () => {
    const ac = new AbortController();
    const before = new Set(t.records.keys());
    const pending = fetch(chat, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: user, max_tokens: 400, temperature: 0, persona: 'formal', alpha: 8, layer: 1 }),
      signal: ac.signal,
    }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 150));
    ac.abort();
    expect(await pending).toBeInstanceOf(Error);
    await expect.poll(() => [...t.records.values()].find((r) => !before.has(r.id)), { timeout: 10_000 }).toBeTruthy();
    const rec = [...t.records.values()].find((r) => !before.has(r.id))!;
    expect(rec.cancelled).toBe(true);
    expect(rec.usage.completion_tokens).toBeLessThan(400);
    await stillServes();
  });
});

describe('limits and keys', () => {
  it('answers 429 when the queue is full and serves again once it drains', async () => {
    const small = await startTestServer({ maxBatch: 1, maxQueue: 0 });
    try {
      const url = `${small.server.url}/v1/chat/completions`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: user, max_tokens: 200, temperature: 0, persona: 'formal', alpha: 8, layer: 1, stream: true }),
      });
      const reader = res.body!.getReader();
      await reader.read();
      const busy = await postJson(url, { messages: user, max_tokens: 4 });
      expect(busy.status).toBe(429);
      expect(busy.body.error.type).toBe('rate_limit_error');
      expect(busy.headers.get('content-type')).toMatch(/json/);
      while (!(await reader.read()).done);
      const ok = await postJson(url, { messages: user, max_tokens: 4 });
      expect(ok.status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('requires the API key when one is set, on the API and the reports but not the page', async () => {
    const keyed = await startTestServer({ apiKey: 'sesame' });
    try {
      const u = keyed.server.url;
      expect((await fetch(`${u}/v1/models`)).status).toBe(401);
      expect((await fetch(`${u}/v1/models`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const denied = await postJson(`${u}/v1/chat/completions`, { messages: user });
      expect(denied.status).toBe(401);
      expect(denied.body.error.type).toBe('authentication_error');
      expect((await fetch(`${u}/reports/formal/layers.html`)).status).toBe(401);
      expect((await fetch(`${u}/v1/models`, { headers: { authorization: 'Bearer sesame' } })).status).toBe(200);
      expect((await postJson(`${u}/v1/chat/completions`, { messages: user, max_tokens: 3 }, { authorization: 'Bearer sesame' })).status).toBe(200);
      expect((await fetch(`${u}/`)).status).toBe(200);
    } finally {
      await keyed.close();
    }
  });

  it('binds to 127.0.0.1 unless told otherwise', () => {
    expect(t.server.host).toBe('127.0.0.1');
    expect(t.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('persona endpoints', () => {
  it('list the personas with description, recommended layer and alpha range, and show one', async () => {
    const list = await (await fetch(`${t.server.url}/v1/personas`)).json();
    const formal = list.data.find((p: { id: string }) => p.id === 'formal');
    const meta = await formalMeta();
    expect(formal).toMatchObject({
      description: expect.stringMatching(/formal/),
      recommended_layer: meta.recommendedLayer,
      alpha_range: meta.alphaRange,
      fits_model: true,
    });
    const one = await (await fetch(`${t.server.url}/v1/personas/formal`)).json();
    expect(one.layers).toHaveLength(6);
    expect((await fetch(`${t.server.url}/v1/personas/nobody`)).status).toBe(404);
    expect((await fetch(`${t.server.url}/v1/personas/..%2Fpersonas%2Fformal`)).status).toBe(400);
  });

  it('store an uploaded persona atomically under its name, usable at once for steering', async () => {
    const meta = { ...(await formalMeta()), name: 'formal-copy', description: 'uploaded copy' };
    const r = await postJson(`${t.server.url}/v1/personas`, { meta, vectors: (await formalVectors()).toString('base64') });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: 'formal-copy', description: 'uploaded copy', fits_model: true });
    const files = await fs.readdir(t.personasDir);
    expect(files).toContain('formal-copy.persona.json');
    expect(files.filter((f) => /^formal-copy\.persona\.[0-9a-f]{16}\.safetensors$/.test(f))).toHaveLength(1);
    expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
    const steered = await postJson(`${t.server.url}/v1/chat/completions`, {
      messages: user,
      max_tokens: 8,
      temperature: 0,
      persona: 'formal-copy',
      alpha: -8,
      layer: 3,
    });
    const original = await postJson(`${t.server.url}/v1/chat/completions`, {
      messages: user,
      max_tokens: 8,
      temperature: 0,
      persona: 'formal',
      alpha: -8,
      layer: 3,
    });
    expect(steered.body.choices[0].message.content).toBe(original.body.choices[0].message.content);
    const again = await postJson(`${t.server.url}/v1/personas`, { meta, vectors: (await formalVectors()).toString('base64') });
    expect(again.status).toBe(409);
  });

  it('reject a corrupt or unfitting upload and write no file', async () => {
    const before = await snapshot(t.personasDir);
    const { vectorsSha256, vectorsBytes, ...good } = await formalMeta(); // without the pair check, so each case reaches its own check
    const vectors = await formalVectors();
    const nanVectors = encodeSafetensors(
      Object.fromEntries(Array.from({ length: 6 }, (_, l) => [`layers.${l}`, { shape: [256], data: new Float32Array(256).fill(l === 2 ? NaN : 0.1) }])),
      {},
    );
    const smallVectors = encodeSafetensors(
      Object.fromEntries(Array.from({ length: 6 }, (_, l) => [`layers.${l}`, { shape: [128], data: new Float32Array(128).fill(0.1) }])),
      {},
    );
    const cases: [string, unknown, RegExp][] = [
      ['truncated sidecar', { meta: { ...good, name: 'bad1' }, vectors: vectors.subarray(0, 100).toString('base64') }, /invalid/],
      ['random bytes', { meta: { ...good, name: 'bad2' }, vectors: Buffer.from('not a safetensors file at all!!').toString('base64') }, /invalid/],
      ['NaN in a vector', { meta: { ...good, name: 'bad3' }, vectors: Buffer.from(nanVectors).toString('base64') }, /NaN/],
      [
        "another model's shape",
        { meta: { ...good, name: 'bad4', model: { ...good.model, hiddenSize: 128 } }, vectors: Buffer.from(smallVectors).toString('base64') },
        /does not fit|hidden/,
      ],
      ['a path as name', { meta: { ...good, name: '../evil' }, vectors: vectors.toString('base64') }, /looks like a path/],
      ['meta missing fields', { meta: { name: 'bad5' }, vectors: vectors.toString('base64') }, /malformed/],
      ['vectors not base64', { meta: { ...good, name: 'bad6' }, vectors: '%%%not-base64%%%' }, /base64/],
      ['no meta', { vectors: vectors.toString('base64') }, /meta/],
      [
        'vectors other than the meta describes',
        { meta: { ...good, name: 'bad7', vectorsSha256, vectorsBytes }, vectors: Buffer.from(nanVectors).toString('base64') },
        /do not match/,
      ],
    ];
    for (const [what, body, message] of cases) {
      const r = await postJson(`${t.server.url}/v1/personas`, body);
      expect(r.status, what).toBe(400);
      expect(r.body.error.message, what).toMatch(message);
    }
    const huge = await postJson(`${t.server.url}/v1/personas`, { meta: { ...good, name: 'huge' }, vectors: 'A'.repeat(33 << 20) });
    expect(huge.status).toBe(413);
    expect(await snapshot(t.personasDir)).toEqual(before);
    await stillServes();
  });
});

describe('projections, reports and the page', () => {
  it('reads per-token projections on the persona: a formal answer projects higher than a casual one', async () => {
    const read = async (completion: string) => (await postJson(`${t.server.url}/v1/projections`, { persona: 'formal', messages: user, completion })).body;
    const formal = await read('Dear Ana, I am most grateful for the tea. Kind regards.');
    const casual = await read('hey Ana!! thx for the tea lol, gonna drink it all :)');
    expect(formal.layer).toBe((await formalMeta()).recommendedLayer);
    expect(formal.tokens.map((x: { token: string }) => x.token).join('')).toBe('Dear Ana, I am most grateful for the tea. Kind regards.');
    expect(formal.tokens.every((x: { projection: number }) => Number.isFinite(x.projection))).toBe(true);
    expect(formal.mean).toBeGreaterThan(casual.mean);
    const byIds = await postJson(`${t.server.url}/v1/projections`, {
      persona: 'formal',
      messages: user,
      completion_ids: formal.tokens.map((x: { id: number }) => x.id),
    });
    expect(byIds.body.tokens.map((x: { projection: number }) => x.projection)).toEqual(formal.tokens.map((x: { projection: number }) => x.projection));
    expect((await postJson(`${t.server.url}/v1/projections`, { persona: 'formal', messages: user, completion_ids: [99999] })).status).toBe(400);
    expect((await postJson(`${t.server.url}/v1/projections`, { persona: '../x', messages: user, completion: 'hi' })).status).toBe(400);
    // A long answer is read in one pass: 400 tokens (the stylist reads 512), each token's value the same as in a shorter read of its prefix.
    const ids = formal.tokens.map((x: { id: number }) => x.id);
    const long = Array.from({ length: 400 }, (_, i) => ids[i % ids.length]);
    const longRead = await postJson(`${t.server.url}/v1/projections`, { persona: 'formal', messages: user, completion_ids: long });
    expect(longRead.status, JSON.stringify(longRead.body)).toBe(200);
    expect(longRead.body.tokens).toHaveLength(400);
    longRead.body.tokens
      .slice(0, ids.length)
      .forEach((x: { projection: number }, i: number) => expect(x.projection).toBeCloseTo(byIds.body.tokens[i].projection, 4));
    const tooLong = await postJson(`${t.server.url}/v1/projections`, { persona: 'formal', messages: user, completion_ids: new Array(4097).fill(ids[0]) });
    expect(tooLong.status).toBe(400);
  });

  it('lists the HTML reports of the reports folder and serves only those, sandboxed', async () => {
    const list = await (await fetch(`${t.server.url}/v1/reports`)).json();
    expect(list.data.map((r: { name: string }) => r.name)).toEqual(['formal/layers.html']);
    const res = await fetch(`${t.server.url}${list.data[0].url}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe('sandbox');
    expect(await res.text()).toMatch(/Layer analysis/);
    for (const bad of ['/reports/..%2F..%2Fetc%2Fpasswd', '/reports/../personas/formal.persona.json', '/reports/formal/missing.html'])
      expect((await fetch(`${t.server.url}${bad}`)).status, bad).toBe(404);
  });

  it('serves the page and its files with a same-origin policy and no external URL', async () => {
    const res = await fetch(`${t.server.url}/`);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const files = ['/', '/app.js', '/style.css'];
    for (const f of files) {
      const text = await (await fetch(`${t.server.url}${f}`)).text();
      expect(text, f).not.toMatch(/https?:\/\//);
    }
    expect((await fetch(`${t.server.url}/server.ts`)).status).toBe(404);
  });
});
