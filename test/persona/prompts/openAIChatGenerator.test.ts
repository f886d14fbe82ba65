import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateArtifacts, GeneratorError } from '../../../src/persona/prompts/generateArtifacts.js';
import { openAIChatGenerator } from '../../../src/persona/prompts/openAIChatGenerator.js';
import { validArtifact } from './artifactFixture.js';

interface Seen {
  method?: string;
  url?: string;
  auth?: string;
  body: Record<string, unknown>;
}

/** A minimal OpenAI chat-completions server; `reply` decides each answer. */
let server: http.Server;
let baseURL: string;
const seen: Seen[] = [];
let reply: (body: Record<string, unknown>, n: number) => { status: number; body: string; type?: string };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(data || '{}') as Record<string, unknown>;
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      const r =
        req.url === '/v1/chat/completions' ? reply(body, seen.length) : { status: 404, body: JSON.stringify({ error: { message: `no route ${req.url}` } }) };
      res.writeHead(r.status, { 'content-type': r.type ?? 'application/json' });
      res.end(r.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const completion = (content: string): string =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  });

describe('openAIChatGenerator', () => {
  it('posts model, messages, temperature and max_tokens with a bearer key to {baseURL}/chat/completions', async () => {
    seen.length = 0;
    reply = () => ({ status: 200, body: completion('Hello there.') });
    const gen = openAIChatGenerator({ baseURL: `${baseURL}/`, apiKey: 'sk-test', model: 'tiny-chat' });
    const text = await gen(
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      { temperature: 0.2, maxTokens: 64 },
    );
    expect(text).toBe('Hello there.');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/chat/completions', auth: 'Bearer sk-test' });
    expect(seen[0].body).toEqual({
      model: 'tiny-chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      temperature: 0.2,
      max_tokens: 64,
    });
  });

  it('sends no authorization header and no sampling fields when none are given', async () => {
    seen.length = 0;
    reply = () => ({ status: 200, body: completion('ok') });
    await openAIChatGenerator({ baseURL, model: 'm' })([{ role: 'user', content: 'x' }], {});
    expect(seen[0].auth).toBeUndefined();
    expect(Object.keys(seen[0].body).sort()).toEqual(['messages', 'model']);
  });

  it("turns HTTP failures into GeneratorErrors with the status, the server's message and a hint", async () => {
    reply = () => ({ status: 401, body: JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }) });
    const gen = openAIChatGenerator({ baseURL, apiKey: 'wrong', model: 'm' });
    await expect(gen([{ role: 'user', content: 'x' }], {})).rejects.toThrow(GeneratorError);
    await expect(gen([{ role: 'user', content: 'x' }], {})).rejects.toThrow(/HTTP 401 Unauthorized: Incorrect API key provided\. Check the API key\./);
    reply = () => ({ status: 500, body: 'upstream exploded', type: 'text/plain' });
    await expect(gen([{ role: 'user', content: 'x' }], {})).rejects.toThrow(/HTTP 500 Internal Server Error: upstream exploded/);
    const wrongPath = openAIChatGenerator({ baseURL: baseURL.replace(/\/v1$/, ''), model: 'm' });
    await expect(wrongPath([{ role: 'user', content: 'x' }], {})).rejects.toThrow(/HTTP 404.*Check the base URL/);
  });

  it('rejects a 200 answer that is not a chat completion', async () => {
    reply = () => ({ status: 200, body: JSON.stringify({ result: 'hi' }) });
    await expect(openAIChatGenerator({ baseURL, model: 'm' })([{ role: 'user', content: 'x' }], {})).rejects.toThrow(/without choices\[0\]\.message\.content/);
    reply = () => ({ status: 200, body: '<html>proxy</html>', type: 'text/html' });
    await expect(openAIChatGenerator({ baseURL, model: 'm' })([{ role: 'user', content: 'x' }], {})).rejects.toThrow(/did not answer JSON/);
  });

  it('says when the server cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const gen = openAIChatGenerator({ baseURL: `http://127.0.0.1:${port}/v1`, model: 'm' });
    await expect(gen([{ role: 'user', content: 'x' }], {})).rejects.toThrow(/Cannot reach the chat endpoint .*ECONNREFUSED/);
  });

  it('drives generateArtifacts over HTTP, retrying a malformed first answer', async () => {
    seen.length = 0;
    reply = (_body, n) => ({ status: 200, body: completion(n === 1 ? '{"instruction": oops}' : `Here it is:\n${JSON.stringify(validArtifact())}`) });
    const { set, attempts } = await generateArtifacts(openAIChatGenerator({ baseURL, model: 'm' }), { trait: 'optimistic', maxTokens: 4000, temperature: 1 });
    expect(attempts).toBe(2);
    expect(seen).toHaveLength(2);
    expect(seen[1].body).toMatchObject({ temperature: 1, max_tokens: 4000 });
    expect((seen[1].body.messages as unknown[]).length).toBe(3);
    expect(set.positive).toHaveLength(100);
  });
});
