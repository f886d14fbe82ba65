import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPrompt } from '../../src/bench/serveLoad.js';
import { styleScore, mean } from '../helpers/stylistModel.js';
import { startTestServer, type TestServer } from './serverFixture.js';

let t: TestServer;
let client: OpenAI;

beforeAll(async () => {
  t = await startTestServer();
  client = new OpenAI({ baseURL: `${t.server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await t?.close();
});

const ask = (content: string, extra: object = {}) =>
  client.chat.completions.create({ model: 'stylist', messages: [{ role: 'user', content }], max_tokens: 40, temperature: 0, ...extra });

/** Marker counts of the stylist's scoring rule (style_markers.json). */
const markers = (text: string) => {
  const t = text.toLowerCase();
  const n = (list: string[]) => list.reduce((s, m) => s + t.split(m).length - 1, 0);
  return { casual: n(['hey', '!!', 'lol', 'gonna', 'awesome', 'tbh']), formal: n(['dear', 'regards', 'please', 'sincere', 'regret', 'grateful']) };
};

describe('the server through the official openai client', () => {
  it('lists the served model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['stylist']);
    expect((models.data[0] as unknown as { num_layers: number }).num_layers).toBe(6);
  });

  it('answers a chat, and streams the same answer in pieces that join to it', async () => {
    const whole = await ask('Thank Ana for the tea.');
    expect(whole.object).toBe('chat.completion');
    expect(whole.choices[0].message.role).toBe('assistant');
    expect(whole.choices[0].message.content).toMatch(/\w/);
    expect(whole.usage!.completion_tokens).toBeGreaterThan(0);
    expect(whole.usage!.total_tokens).toBe(whole.usage!.prompt_tokens + whole.usage!.completion_tokens);

    const stream = await client.chat.completions.create({
      model: 'stylist',
      messages: [{ role: 'user', content: 'Thank Ana for the tea.' }],
      max_tokens: 40,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const ids = new Set<string>();
    const finishes: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    let pieces = 0;
    for await (const chunk of stream) {
      ids.add(chunk.id);
      for (const c of chunk.choices) {
        if (c.delta.content) {
          text += c.delta.content;
          pieces++;
        }
        if (c.finish_reason) finishes.push(c.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(ids.size).toBe(1);
    expect(pieces).toBeGreaterThan(3);
    expect(text).toBe(whole.choices[0].message.content);
    expect(finishes).toEqual([whole.choices[0].finish_reason]);
    expect(usage?.completion_tokens).toBe(whole.usage!.completion_tokens);
    expect(t.records.get([...ids][0])?.choices[0].text).toBe(text);
  });

  it('changes style with persona and alpha passed as extra body fields: formal −8 reads casual, +8 formal', async () => {
    const prompts = Array.from({ length: 8 }, (_, i) => loadPrompt(i));
    // Layer 3: one of the layers recorded in the persona file (the reference table's formal layer).
    const run = (alpha: number) => Promise.all(prompts.map((p) => ask(p, { persona: 'formal', alpha, layer: 3 })));
    const [neg, pos, plain] = await Promise.all([run(-8), run(8), Promise.all(prompts.map((p) => ask(p)))]);
    const text = (rs: OpenAI.ChatCompletion[]) => rs.map((r) => r.choices[0].message.content ?? '');
    const fNeg = mean(text(neg).map((x) => styleScore(x).formality));
    const fPos = mean(text(pos).map((x) => styleScore(x).formality));
    expect(fNeg, text(neg).join('\n')).toBeLessThan(-0.2);
    expect(fPos, text(pos).join('\n')).toBeGreaterThan(0.5);
    const mNeg = markers(text(neg).join(' '));
    const mPos = markers(text(pos).join(' '));
    expect(mNeg.casual).toBeGreaterThan(mPos.casual);
    expect(mPos.formal).toBeGreaterThan(mNeg.formal);
    expect(text(neg)).not.toEqual(text(plain));
    expect((neg[0] as unknown as { persona_steering: unknown }).persona_steering).toEqual([
      { persona: 'formal', alpha: -8, layer: 3, layers: [3], positions: 'all', units: 'gap', operator: 'add' },
    ]);
  });

  it('steers with a steering list of several personas, and alpha 0 leaves the answer exactly unsteered', async () => {
    const plain = await ask('Describe a windy hill to Sam.');
    const zero = await ask('Describe a windy hill to Sam.', { persona: 'formal', alpha: 0 });
    expect(zero.choices[0].message.content).toBe(plain.choices[0].message.content);
    const both = await ask('Describe a windy hill to Sam.', {
      steering: [
        { persona: 'formal', alpha: -6, layer: 3 },
        { persona: 'vivid', alpha: 6, layer: 4 },
      ],
    });
    expect(both.choices[0].message.content).not.toBe(plain.choices[0].message.content);
    expect((both as unknown as { persona_steering: { persona: string }[] }).persona_steering.map((s) => s.persona)).toEqual(['formal', 'vivid']);
  });

  it("returns log-probabilities in OpenAI's shape, with token strings and top alternatives", async () => {
    const r = await ask('Invite Sam to lunch.', { logprobs: true, top_logprobs: 3, max_tokens: 12 });
    const content = r.choices[0].logprobs!.content!;
    expect(content.length).toBe(r.usage!.completion_tokens - (r.choices[0].finish_reason === 'stop' ? 1 : 0));
    expect(content.map((c) => c.token).join('')).toBe(r.choices[0].message.content);
    for (const c of content) {
      expect(typeof c.token).toBe('string');
      expect(c.logprob).toBeLessThanOrEqual(0);
      expect(c.bytes).toEqual(Array.from(Buffer.from(c.token)));
      expect(c.top_logprobs).toHaveLength(3);
      const tops = c.top_logprobs.map((x) => x.logprob);
      expect([...tops].sort((a, b) => b - a)).toEqual(tops);
      // Greedy decoding: the chosen token is the most likely one.
      expect(c.top_logprobs[0].token).toBe(c.token);
      expect(c.top_logprobs[0].logprob).toBeCloseTo(c.logprob, 6);
    }
  });

  it("streams log-probabilities and token ids with each choice's last chunk", async () => {
    const stream = await client.chat.completions.create({
      model: 'stylist',
      messages: [{ role: 'user', content: 'Invite Sam to lunch.' }],
      max_tokens: 10,
      temperature: 0,
      stream: true,
      logprobs: true,
      top_logprobs: 2,
      ...{ return_token_ids: true },
    });
    let text = '';
    let last: OpenAI.ChatCompletionChunk.Choice | undefined;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        if (c.finish_reason) last = c;
      }
    }
    expect(last!.logprobs!.content!.map((c) => c.token).join('')).toBe(text);
    expect((last as unknown as { token_ids: number[] }).token_ids).toHaveLength(last!.logprobs!.content!.length);
  });

  it('stops at a stop string without sending it, streamed or not', async () => {
    const plain = (await ask('Thank Ana for the tea.')).choices[0].message.content!;
    const cut = plain.indexOf(' you');
    expect(cut).toBeGreaterThan(0);
    const r = await ask('Thank Ana for the tea.', { stop: [' you', 'zzz'] });
    expect(r.choices[0].message.content).toBe(plain.slice(0, cut));
    expect(r.choices[0].finish_reason).toBe('stop');
    const stream = await client.chat.completions.create({
      model: 'stylist',
      messages: [{ role: 'user', content: 'Thank Ana for the tea.' }],
      max_tokens: 40,
      temperature: 0,
      stop: ' you',
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(plain.slice(0, cut));
  });

  it('samples reproducibly with a seed, and n answers with seed + i', async () => {
    const a = await ask('Advise Kim on learning to cook.', { temperature: 0.9, seed: 42, n: 3 });
    const b = await ask('Advise Kim on learning to cook.', { temperature: 0.9, seed: 42, n: 3 });
    expect(a.choices.map((c) => c.message.content)).toEqual(b.choices.map((c) => c.message.content));
    expect(a.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(a.choices.map((c) => c.message.content)).size).toBeGreaterThan(1);
  });
});
