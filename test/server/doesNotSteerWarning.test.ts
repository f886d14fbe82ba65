import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDoesNotSteerPersona } from '../helpers/doesNotSteerPersona.js';
import { postJson, startTestServer, type TestServer } from './serverFixture.js';

// A persona whose file records the steering check's does-not-steer verdict: the persona list marks it,
// and every completion steered with it carries `persona_warnings` (the first chunk when streamed).
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await writeDoesNotSteerPersona(t.personasDir);
});
afterAll(async () => {
  await t?.close();
});

const WARNING = /^persona "nosteer" does not measurably steer this model: its file records the steering check's verdict/;
const body = (extra: object, stream = false) => ({
  model: 'stylist',
  messages: [{ role: 'user', content: 'Write a thank-you note to Sam.' }],
  max_tokens: 8,
  temperature: 0,
  stream,
  ...extra,
});

describe('the server and a persona whose file records the does-not-steer verdict', () => {
  it('marks it in the persona list and its detail; the shipped personas are marked as steering', async () => {
    const list = (await (await fetch(`${t.server.url}/v1/personas`)).json()) as {
      data: Array<{ id: string; steering_verdict: string | null; warning: string | null }>;
    };
    const byId = Object.fromEntries(list.data.map((p) => [p.id, p]));
    expect(byId.nosteer.steering_verdict).toBe('does-not-steer');
    expect(byId.nosteer.warning).toMatch(WARNING);
    expect(byId.formal).toMatchObject({ steering_verdict: 'steers', warning: null });
    const detail = (await (await fetch(`${t.server.url}/v1/personas/nosteer`)).json()) as { steering_verdict: string };
    expect(detail.steering_verdict).toBe('does-not-steer');
  });

  it('answers a request steered with it, with persona_warnings; none for the shipped formal persona or an unsteered request', async () => {
    const r = await postJson(`${t.server.url}/v1/chat/completions`, body({ persona: 'nosteer', alpha: 4 }));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.persona_warnings).toHaveLength(1);
    expect(r.body.persona_warnings[0]).toMatch(WARNING);
    expect(r.body.persona_steering[0]).toMatchObject({ persona: 'nosteer', alpha: 4 });
    // same vectors as formal: steered all the same
    const formal = await postJson(`${t.server.url}/v1/chat/completions`, body({ persona: 'formal', alpha: 4 }));
    expect(formal.status).toBe(200);
    expect(formal.body).not.toHaveProperty('persona_warnings');
    expect(r.body.choices[0].message.content).toBe(formal.body.choices[0].message.content);
    const plain = await postJson(`${t.server.url}/v1/chat/completions`, body({}));
    expect(plain.body).not.toHaveProperty('persona_warnings');
    // in a steering list beside a persona that steers: one warning, for it
    const both = await postJson(
      `${t.server.url}/v1/chat/completions`,
      body({
        steering: [
          { persona: 'formal', alpha: 2 },
          { persona: 'nosteer', alpha: 2 },
        ],
      }),
    );
    expect(both.status, JSON.stringify(both.body)).toBe(200);
    expect(both.body.persona_warnings).toEqual([expect.stringMatching(WARNING)]);
  });

  it('streams persona_warnings in the first chunk', async () => {
    const res = await fetch(`${t.server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body({ persona: 'nosteer', alpha: 4 }, true)),
    });
    expect(res.status).toBe(200);
    const chunks = (await res.text())
      .split('\n\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)));
    expect(chunks[0].persona_warnings[0]).toMatch(WARNING);
    expect(chunks.slice(1).some((c) => 'persona_warnings' in c)).toBe(false);
  });
});
