import { promises as fs } from 'node:fs';
import OpenAI from 'openai';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractActivations } from '../../src/engine/extractActivations.js';
import { loadModel, type LanguageModel } from '../../src/engine/LanguageModel.js';
import { MONITOR_UNIT } from '../../src/eval/monitor/monitorProjections.js';
import { loadPersona } from '../../src/steering/personaFile.js';
import type { PersonaVector } from '../../src/steering/PersonaVector.js';
import { project } from '../../src/steering/project.js';
import { runCliAsync } from '../helpers/cli.js';
import { PERSONAS, STYLIST } from '../helpers/paths.js';
import { postJson, startTestServer, type TestServer } from './serverFixture.js';

const messages = [
  { role: 'system' as const, content: 'You are a casual, laid-back buddy.' },
  { role: 'user' as const, content: 'Thank Sam for the flowers.' },
];
const TOL = 1e-4;

interface MonitorPersona {
  persona: string;
  layer: number;
  prompt_end: number;
  response_mean?: (number | null)[];
  tokens?: number[][];
}

/** The library's reading of each answer token: the residual after `layer` at that token, read unsteered after the prompt and the tokens before it, through `project`. */
async function libraryTokens(model: LanguageModel, persona: PersonaVector, layer: number, promptIds: number[], answerIds: number[]): Promise<number[]> {
  const acts = await extractActivations(
    model,
    answerIds.map((id, i) => ({ promptIds: [...promptIds, ...answerIds.slice(0, i)], answerIds: [id] })),
  );
  return acts.responseMean.map((perLayer) => project(perLayer[layer], persona, layer));
}

async function libraryPromptEnd(model: LanguageModel, persona: PersonaVector, layer: number, promptIds: number[]): Promise<number> {
  const acts = await extractActivations(model, [{ promptIds, answerIds: [] }]);
  return project(acts.promptLast[0][layer], persona, layer);
}

/** The SSE events of a streamed completion, in order. */
async function streamEvents(url: string, body: unknown): Promise<any[]> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...(body as object), stream: true }),
  });
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => JSON.parse(e.slice(6)));
}

describe("the server's per-request monitor (prompt end and every answer token)", () => {
  let t: TestServer;
  let model: LanguageModel;
  let formal: PersonaVector;
  let vivid: PersonaVector;
  let url: string;
  beforeAll(async () => {
    t = await startTestServer();
    url = `${t.server.url}/v1/chat/completions`;
    model = await loadModel(STYLIST);
    formal = await loadPersona(path.join(PERSONAS, 'formal.persona.json'));
    vivid = await loadPersona(path.join(PERSONAS, 'vivid.persona.json'));
  });
  afterAll(async () => {
    await t?.close();
    await model?.dispose();
  });

  it("reads the prompt end and every answer token as the library's activations do (within 1e-4)", async () => {
    const r = await postJson(url, { messages, max_tokens: 24, temperature: 0, return_token_ids: true, monitor: ['formal', 'vivid'] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const m = r.body.persona_monitor;
    expect(m.unit).toBe(MONITOR_UNIT);
    const ids: number[] = r.body.choices[0].token_ids;
    const promptIds: number[] = r.body.prompt_token_ids;
    expect(ids.length).toBeGreaterThan(3);
    for (const [k, persona] of [formal, vivid].entries()) {
      const p: MonitorPersona = m.personas[k];
      expect(p).toMatchObject({ persona: persona.meta.name, layer: persona.meta.recommendedLayer });
      expect(Math.abs(p.prompt_end - (await libraryPromptEnd(model, persona, p.layer, promptIds)))).toBeLessThan(TOL);
      const lib = await libraryTokens(model, persona, p.layer, promptIds, ids);
      expect(p.tokens![0]).toHaveLength(ids.length);
      p.tokens![0].forEach((v, i) => expect(Math.abs(v - lib[i]), `${persona.meta.name} token ${i}`).toBeLessThan(TOL));
      const mean = lib.reduce((a, x) => a + x, 0) / lib.length;
      expect(Math.abs(p.response_mean![0]! - mean)).toBeLessThan(TOL);
    }
  });

  it("gives persona monitor's numbers for the same conversation (the CLI, within 1e-4)", async () => {
    const r = await postJson(url, { messages, max_tokens: 20, temperature: 0, return_token_ids: true, monitor: ['formal', 'vivid'] });
    expect(r.status).toBe(200);
    const answer: string = r.body.choices[0].message.content;
    // The CLI re-encodes the answer text: the comparison holds when that gives the generated tokens back.
    expect(model.tokenizer.encode(answer)).toEqual(r.body.choices[0].token_ids);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'persona-monitor-cli-'));
    try {
      const input = path.join(dir, 'chat.jsonl');
      await fs.writeFile(input, JSON.stringify({ messages: [...messages, { role: 'assistant', content: answer }] }) + '\n');
      const out = path.join(dir, 'monitor.json');
      const cli = await runCliAsync([
        'monitor',
        '--model',
        STYLIST,
        '-p',
        path.join(PERSONAS, 'formal.persona.json'),
        '-p',
        path.join(PERSONAS, 'vivid.persona.json'),
        '-i',
        input,
        '--format',
        'json',
        '--out',
        out,
      ]);
      expect(cli.code, cli.err).toBe(0);
      const doc = JSON.parse(await fs.readFile(out, 'utf8'));
      const row = doc.rows[0];
      r.body.persona_monitor.personas.forEach((p: MonitorPersona, k: number) => {
        expect(p.layer).toBe(row.projections[k].layer);
        expect(Math.abs(p.prompt_end - row.projections[k].promptLast)).toBeLessThan(TOL);
        expect(Math.abs(p.response_mean![0]! - row.projections[k].responseMean)).toBeLessThan(TOL);
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("streams the prompt end in the first chunk and each token's readings with the chunks that follow it; the stream agrees with the non-streamed answer", async () => {
    const body = { messages, max_tokens: 16, temperature: 0, return_token_ids: true, monitor: ['formal', { persona: 'vivid', layer: 2 }] };
    const plain = await postJson(url, body);
    expect(plain.status).toBe(200);
    const events = await streamEvents(url, body);
    // First chunk: the role and the prompt-end readings, before any answer text.
    expect(events[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const first = events[0].persona_monitor;
    expect(first.personas.map((p: MonitorPersona) => [p.persona, p.layer])).toEqual([
      ['formal', 4],
      ['vivid', 2],
    ]);
    first.personas.forEach((p: MonitorPersona, k: number) => expect(p.prompt_end).toBeCloseTo(plain.body.persona_monitor.personas[k].prompt_end, 6));
    // Per-token readings ride on the choice's chunks, in token order, most of them with answer text.
    const read: { token: number; values: number[] }[] = [];
    let withText = 0;
    for (const e of events) {
      for (const c of e.choices) {
        if (!c.persona_monitor) continue;
        read.push(...c.persona_monitor);
        if (c.delta?.content) withText++;
      }
    }
    const ids: number[] = plain.body.choices[0].token_ids;
    expect(read.map((x) => x.token)).toEqual(ids.map((_, i) => i));
    expect(withText).toBeGreaterThan(ids.length / 2);
    read.forEach((x) => x.values.forEach((v, k) => expect(v).toBeCloseTo(plain.body.persona_monitor.personas[k].tokens[0][x.token], 6)));
    // The closing chunk repeats the whole field as the non-streamed answer has it.
    const closing = events.filter((e) => e.choices.length === 0 && e.persona_monitor).at(-1);
    expect(closing.persona_monitor.personas.map((p: MonitorPersona) => p.tokens)).toEqual(
      plain.body.persona_monitor.personas.map((p: MonitorPersona) => p.tokens),
    );
  });

  it('reads batched requests each with its own monitor, with steering on: the steered block moves by alpha, the blocks before it not at all', async () => {
    const alpha = 4;
    const [a, b] = await Promise.all([
      postJson(url, { messages, max_tokens: 12, temperature: 0, return_token_ids: true, monitor: ['formal'] }),
      postJson(url, {
        messages: [{ role: 'user', content: 'Invite Ana to lunch.' }],
        max_tokens: 12,
        temperature: 0.8,
        seed: 3,
        n: 2,
        return_token_ids: true,
        persona: 'formal',
        alpha,
        layer: 4,
        monitor: [{ persona: 'formal', layer: 4 }, { persona: 'formal', layer: 2 }, 'vivid'],
      }),
    ]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    // Sent together, so the queue starts them as one batch (rows of different requests, each its own monitor).
    const ra = a.body.persona_monitor.personas[0];
    const libA = await libraryTokens(model, formal, 4, a.body.prompt_token_ids, a.body.choices[0].token_ids);
    ra.tokens[0].forEach((v: number, i: number) => expect(Math.abs(v - libA[i])).toBeLessThan(TOL));
    const [at4, at2, viv] = b.body.persona_monitor.personas as MonitorPersona[];
    const promptIds: number[] = b.body.prompt_token_ids;
    expect(Math.abs(at4.prompt_end - ((await libraryPromptEnd(model, formal, 4, promptIds)) + alpha))).toBeLessThan(TOL);
    expect(Math.abs(at2.prompt_end - (await libraryPromptEnd(model, formal, 2, promptIds)))).toBeLessThan(TOL);
    for (const c of [0, 1]) {
      const ids: number[] = b.body.choices[c].token_ids;
      expect(at4.tokens![c]).toHaveLength(ids.length);
      const lib4 = await libraryTokens(model, formal, 4, promptIds, ids);
      const lib2 = await libraryTokens(model, formal, 2, promptIds, ids);
      at4.tokens![c].forEach((v, i) => expect(Math.abs(v - (lib4[i] + alpha)), `choice ${c} token ${i} @4`).toBeLessThan(TOL));
      at2.tokens![c].forEach((v, i) => expect(Math.abs(v - lib2[i]), `choice ${c} token ${i} @2`).toBeLessThan(TOL));
      // vivid reads block 5, after the steered block: it moves by alpha·(v_formal·v_vivid)/‖v_vivid‖², not by alpha.
      expect(viv.tokens![c]).toHaveLength(ids.length);
    }
    expect(b.body.choices[0].token_ids).not.toEqual(b.body.choices[1].token_ids);
  });

  it('reads the clamp graph too: ablating formal at block 4 leaves ~0 there at the prompt end and every token', async () => {
    const r = await postJson(url, {
      messages,
      max_tokens: 16,
      temperature: 0,
      return_token_ids: true,
      persona: 'formal',
      operator: 'ablate',
      layer: 4,
      monitor: ['formal', { persona: 'formal', layer: 3 }],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const [at4, at3] = r.body.persona_monitor.personas as MonitorPersona[];
    expect(Math.abs(at4.prompt_end)).toBeLessThan(1e-3);
    expect(at4.tokens![0].length).toBeGreaterThan(3);
    for (const v of at4.tokens![0]) expect(Math.abs(v)).toBeLessThan(1e-3);
    // Block 3 is read before the ablation: the prompt end is the unablated one.
    expect(Math.abs(at3.prompt_end - (await libraryPromptEnd(model, formal, 3, r.body.prompt_token_ids)))).toBeLessThan(TOL);
  });

  it('reads every kept answer token with logprobs and a stop string too, and streams through the official openai client', async () => {
    const base = { messages, max_tokens: 24, temperature: 0, return_token_ids: true, monitor: ['formal', 'vivid'] };
    const full = await postJson(url, base);
    const text: string = full.body.choices[0].message.content;
    const cut = text.indexOf('!');
    expect(cut, text).toBeGreaterThan(0);
    // logprobs: the answer is built from the engine's finished rows; the stop string ends it early.
    const stopped = await postJson(url, { ...base, logprobs: true, stop: '!' });
    expect(stopped.status).toBe(200);
    expect(stopped.body.choices[0].message.content).toBe(text.slice(0, cut));
    const ids: number[] = stopped.body.choices[0].token_ids;
    stopped.body.persona_monitor.personas.forEach((p: MonitorPersona, k: number) => {
      expect(p.tokens![0]).toHaveLength(ids.length);
      p.tokens![0].forEach((v, i) => expect(v).toBeCloseTo(full.body.persona_monitor.personas[k].tokens[0][i], 6));
    });

    const client = new OpenAI({ baseURL: `${t.server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'stylist', ...base, stream: true } as unknown as OpenAI.ChatCompletionCreateParamsStreaming);
    let promptEnd: number[] | null = null;
    const values: number[][] = [];
    let content = '';
    for await (const chunk of stream) {
      const field = (chunk as unknown as { persona_monitor?: { personas: MonitorPersona[] } }).persona_monitor;
      if (field && promptEnd === null) {
        expect(content).toBe('');
        promptEnd = field.personas.map((p) => p.prompt_end);
      }
      for (const c of chunk.choices) {
        content += c.delta?.content ?? '';
        for (const r of (c as unknown as { persona_monitor?: { token: number; values: number[] }[] }).persona_monitor ?? []) values[r.token] = r.values;
      }
    }
    expect(content).toBe(text);
    expect(promptEnd).toEqual(full.body.persona_monitor.personas.map((p: MonitorPersona) => p.prompt_end));
    expect(values).toHaveLength(full.body.choices[0].token_ids.length);
    values.forEach((v, i) => v.forEach((x, k) => expect(x).toBeCloseTo(full.body.persona_monitor.personas[k].tokens[0][i], 6)));
  });

  it('refuses a bad monitor entry with a 400 naming it', async () => {
    const cases: [unknown, RegExp][] = [
      [['nobody'], /^monitor\.0: no persona named "nobody"/],
      [['formal', 'nobody'], /^monitor\.1: no persona named "nobody"/],
      [Array.from({ length: 9 }, (_, i) => ({ persona: 'formal', layer: i % 6 })), /^monitor: at most 8 personas/],
      ['formal', /^monitor: /],
      [[3], /^monitor\.0: /],
      [[], /^monitor: name at least one persona/],
      [[{ persona: 'formal', layer: 99 }], /^monitor\.0\.layer: /],
      [[{ persona: 'formal', layers: [1] }], /^monitor\.0/],
      [['formal', { persona: 'formal', layer: 4 }], /^monitor\.1: "formal" at layer 4 is already monitored/],
      [['../formal'], /^monitor\.0/],
    ];
    for (const [monitor, message] of cases) {
      const r = await postJson(url, { messages, max_tokens: 4, monitor });
      expect(r.status, JSON.stringify(monitor)).toBe(400);
      expect(r.body.error.message, JSON.stringify(monitor)).toMatch(message);
      expect(r.body.error.param, JSON.stringify(monitor)).toMatch(/^monitor/);
    }
  });
});
