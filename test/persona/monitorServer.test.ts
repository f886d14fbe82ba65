import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LanguageModel } from '../../src/engine/LanguageModel.js';
import { MONITOR_UNIT, monitorProjections } from '../../src/eval/monitor/monitorProjections.js';
import { loadPersona } from '../../src/steering/personaFile.js';
import { PERSONAS, STYLIST } from '../helpers/paths.js';
import { postJson, startTestServer, type TestServer } from '../server/serverFixture.js';

const messages = [
  { role: 'system' as const, content: 'You are a casual, laid-back buddy.' },
  { role: 'user' as const, content: 'Thank Sam for the flowers.' },
];

describe('the per-request monitor of the server', () => {
  let t: TestServer;
  let model: LanguageModel;
  beforeAll(async () => {
    t = await startTestServer();
    model = await loadModel(STYLIST);
  });
  afterAll(async () => {
    await t?.close();
    await model?.dispose();
  });

  it("returns the prompt-end and response-mean projections that persona monitor computes", async () => {
    const r = await postJson(`${t.server.url}/v1/chat/completions`, { messages, max_tokens: 24, temperature: 0, monitor: ['formal', 'vivid'] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const m = r.body.persona_monitor;
    expect(m.unit).toBe(MONITOR_UNIT);
    const formal = await loadPersona(path.join(PERSONAS, 'formal.persona.json'));
    const vivid = await loadPersona(path.join(PERSONAS, 'vivid.persona.json'));
    const [lib] = await monitorProjections(model, [{ messages, response: r.body.choices[0].message.content }], [{ persona: formal }, { persona: vivid }]);
    m.personas.forEach((p: { persona: string; layer: number; prompt_end: number; response_mean: number[] }, k: number) => {
      expect(p.persona).toBe(lib.projections[k].persona);
      expect(p.layer).toBe(lib.projections[k].layer);
      expect(p.prompt_end).toBeCloseTo(lib.projections[k].promptLast, 3);
      expect(p.response_mean[0]).toBeCloseTo(lib.projections[k].responseMean!, 3);
    });
  });

  it('streams the prompt-end readings in the first chunk, before any answer text, and the response means at the end', async () => {
    const res = await fetch(`${t.server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages, max_tokens: 12, temperature: 0, stream: true, monitor: ['formal'] }) });
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)));
    expect(events[0].persona_monitor.personas[0]).toMatchObject({ persona: 'formal' });
    expect(typeof events[0].persona_monitor.personas[0].prompt_end).toBe('number');
    expect(events[0].choices[0].delta.content).toBe('');
    const last = events.filter((e) => e.persona_monitor?.personas?.[0]?.response_mean).at(-1);
    expect(last.persona_monitor.personas[0].response_mean).toHaveLength(1);
  });

  it('refuses an unknown persona to monitor with a 404 and a malformed list with a 400', async () => {
    const unknown = await postJson(`${t.server.url}/v1/chat/completions`, { messages, max_tokens: 4, monitor: ['nobody'] });
    expect(unknown.status).toBe(404);
    const bad = await postJson(`${t.server.url}/v1/chat/completions`, { messages, max_tokens: 4, monitor: 'formal' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^monitor: /);
  });
});
