import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LanguageModel } from '../../src/engine/LanguageModel.js';
import { resolveSteering, type SteerSpec } from '../../src/steering/resolveSteering.js';
import { shippedPersona, stylist } from '../helpers/stylistModel.js';
import { postJson, startTestServer, type TestServer } from './serverFixture.js';

let t: TestServer;
let client: OpenAI;
let model: LanguageModel;

beforeAll(async () => {
  t = await startTestServer();
  client = new OpenAI({ baseURL: `${t.server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  model = await stylist();
});
afterAll(async () => {
  await t?.close();
});

const PROMPT = 'Write a thank-you note to Reese for the tea.';
const ask = async (extra: object) => {
  // Steering fields ride in the body next to OpenAI's, as the openai client's extra body.
  const r = await client.chat.completions.create({
    model: 'stylist',
    messages: [{ role: 'user', content: PROMPT }],
    max_tokens: 24,
    temperature: 0,
    ...extra,
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  return { text: r.choices[0].message.content ?? '', echo: (r as unknown as { persona_steering: unknown[] | null }).persona_steering };
};

/** What the library answers with the same steering (greedy, 24 tokens). */
async function library(specs: (Omit<SteerSpec, 'persona'> & { persona: string })[]): Promise<string> {
  const resolved = await Promise.all(specs.map(async (s) => ({ ...s, persona: await shippedPersona(s.persona) })));
  const [out] = await model.generate([PROMPT], { maxNewTokens: 24, sampling: { temperature: 0 }, intervention: resolveSteering(model, resolved) });
  return out.text;
}

describe('steering fields through the openai client', () => {
  it('steers the layers asked for, written as a list or as "1-3" or "1,2,3", as the library does', async () => {
    const expected = await library([{ persona: 'formal', alpha: -6, layers: [1, 2, 3] }]);
    const defaultLayer = await library([{ persona: 'formal', alpha: -6 }]);
    expect(expected).not.toBe(defaultLayer);
    for (const layers of [[1, 2, 3], '1-3', '1,2,3', '3,1-2']) {
      const r = await ask({ persona: 'formal', alpha: -6, layers });
      expect(r.text, JSON.stringify(layers)).toBe(expected);
      expect(r.echo).toEqual([expect.objectContaining({ persona: 'formal', layers: [1, 2, 3], operator: 'add' })]);
    }
  });

  it('applies operator ablate and cap as the library does', async () => {
    const ablate = await ask({ persona: 'formal', operator: 'ablate', layers: '0-5' });
    expect(ablate.text).toBe(await library([{ persona: 'formal', operator: 'ablate', layers: [0, 1, 2, 3, 4, 5] }]));
    expect(ablate.echo).toEqual([expect.objectContaining({ operator: 'ablate', alpha: null })]);
    const cap = await ask({ persona: 'formal', operator: 'cap', cap: -2, layers: [1, 2] });
    expect(cap.text).toBe(await library([{ persona: 'formal', operator: 'cap', cap: -2, layers: [1, 2] }]));
    expect(cap.echo).toEqual([expect.objectContaining({ operator: 'cap', cap: -2 })]);
  });

  it('reads every field per entry of a steering list, positions and units included', async () => {
    const steering = [
      { persona: 'formal', alpha: 4, layers: '1-2', positions: 'response', units: 'unit' },
      { persona: 'vivid', operator: 'ablate', layer: 4, positions: 'response' },
    ];
    const r = await ask({ steering });
    expect(r.text).toBe(
      await library([
        { persona: 'formal', alpha: 4, layers: [1, 2], positions: 'response', units: 'unit' },
        { persona: 'vivid', operator: 'ablate', layer: 4, positions: 'response' },
      ]),
    );
    expect(r.echo).toHaveLength(2);
  });

  it('steers each entry at its own positions', async () => {
    const steering = [
      { persona: 'formal', alpha: -6, layer: 1, positions: 'prompt' },
      { persona: 'vivid', alpha: 6, layers: [3, 4], positions: 'response' },
    ] as const;
    const r = await ask({ steering });
    expect(r.text).toBe(await library(steering.map((e) => ({ ...e, layers: 'layers' in e ? [...e.layers] : undefined }))));
    expect(r.echo!.map((e) => (e as { positions: string }).positions)).toEqual(['prompt', 'response']);
  });

  it.each([
    ['an unknown key in a steering entry', { steering: [{ persona: 'formal', alpha: 2, layerz: 3 }] }, 'steering.0'],
    ['both layer and layers', { persona: 'formal', alpha: 2, layer: 1, layers: [2] }, 'layers'],
    ['cap without operator cap', { persona: 'formal', alpha: 2, cap: 1 }, 'cap'],
    ['operator cap without cap', { persona: 'formal', operator: 'cap' }, 'cap'],
    ['alpha with operator ablate', { persona: 'formal', operator: 'ablate', alpha: 3 }, 'alpha'],
    ['units with operator ablate', { steering: [{ persona: 'formal', operator: 'ablate', units: 'unit' }] }, 'steering.0.units'],
    ['an unknown operator', { persona: 'formal', alpha: 2, operator: 'multiply' }, 'operator'],
    ['a layer list that is not one', { persona: 'formal', alpha: 2, layers: '2-x' }, 'layers'],
    ['a layer the model does not have', { persona: 'formal', alpha: 2, layers: [2, 9] }, 'layers'],
    ['a layer of a list entry the model does not have', { steering: [{ persona: 'formal', alpha: 2, layers: '4-7' }] }, 'steering.0.layers'],
    ['steering fields without a persona', { layers: [1] }, 'persona'],
    ['a chat_template_kwargs key that is not read', { chat_template_kwargs: { enable_thinking: true, tools_mode: 1 } }, 'chat_template_kwargs'],
  ])('refuses %s with a 400 naming the field', async (_what, extra, param) => {
    const r = await postJson(`${t.server.url}/v1/chat/completions`, { messages: [{ role: 'user', content: PROMPT }], max_tokens: 2, ...extra });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe(param);
    expect(r.body.error.message).toContain(param);
  });

  it('keeps accepting the other OpenAI fields, as OpenAI does', async () => {
    const r = await postJson(`${t.server.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: 2,
      user: 'u1',
      metadata: { a: 'b' },
      frequency_penalty: 0,
      store: false,
      parallel_tool_calls: false,
    });
    expect(r.status).toBe(200);
  });
});
