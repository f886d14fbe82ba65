import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletionsUrl, postChatCompletion } from '../../src/util/postChatCompletion.js';

describe('postChatCompletion', () => {
  let server: http.Server;
  let base = '';
  const seen: { url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ url: req.url, headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        res.end('{"choices":[{"message":{"content":"hi"}}]}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('POSTs the body as JSON to {baseURL}/chat/completions with the key and headers', async () => {
    const res = await postChatCompletion({ baseURL: `${base}/v1/`, apiKey: 'k', headers: { 'x-extra': '1' } }, { model: 'm', messages: [] });
    expect(await res.json()).toEqual({ choices: [{ message: { content: 'hi' } }] });
    expect(seen[0].url).toBe('/v1/chat/completions');
    expect(seen[0].headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer k', 'x-extra': '1' });
    expect(JSON.parse(seen[0].body)).toEqual({ model: 'm', messages: [] });
    await postChatCompletion({ baseURL: `${base}/v1` }, { model: 'm' });
    expect(seen[1].headers.authorization).toBeUndefined();
    expect(chatCompletionsUrl('http://x/v1//')).toBe('http://x/v1/chat/completions');
  });
});
