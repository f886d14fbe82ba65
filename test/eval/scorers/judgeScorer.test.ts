import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJudgeScorer, JudgeError } from '../../../src/eval/scorers/judgeScorer.js';
import { DEFAULT_COHERENCE_PROMPT, DEFAULT_TRAIT_PROMPT, renderPrompt } from '../../../src/eval/scorers/judgePrompts.js';
import { isRefusal, parseScoreText, weightedScore } from '../../../src/eval/scorers/judgeReply.js';
import { InvalidArgumentError } from '../../../src/errors.js';

/**
 * A real OpenAI-compatible chat completions server on 127.0.0.1. What it answers depends on a tag
 * in the answer being judged ([lp], [text], [refusal], …), so each test picks the server's behaviour.
 */
interface Seen {
  body: Record<string, any>;
  auth: string | undefined;
  prompt: string;
}
const seen: Seen[] = [];
const attempts = new Map<string, number>();
let inFlight = 0;
let maxInFlight = 0;

const lp = (dist: Record<string, number>) => ({
  content: [
    {
      token: Object.keys(dist)[0],
      logprob: Math.log(Object.values(dist)[0]),
      top_logprobs: Object.entries(dist).map(([token, p]) => ({ token, logprob: Math.log(p), bytes: [...Buffer.from(token)] })),
    },
  ],
});
const completion = (content: string | null, logprobs: unknown, finish = 'stop') => ({
  id: 'chatcmpl-test',
  object: 'chat.completion',
  created: 0,
  model: 'judge-test',
  choices: [{ index: 0, message: { role: 'assistant', content }, logprobs, finish_reason: finish }],
});

function reply(prompt: string, body: Record<string, any>): { status: number; json?: unknown; raw?: string; delayMs?: number } {
  const tag = /\[([a-z0-9-]+)\]/.exec(prompt.slice(prompt.indexOf('[ANSWER START]')))?.[1] ?? 'lp';
  const key = `${tag}|${prompt}`;
  const n = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, n);
  const coherence = prompt.includes('for coherence only');
  const wantsLp = body.logprobs === true;
  switch (tag) {
    case 'lp':
      // integer mass 0.9 (" 90" and "90" add up); "eighty", "101" and "-5" are ignored.
      return coherence
        ? { status: 200, json: completion('60', lp({ '60': 0.5, '40': 0.5 }), 'length') }
        : { status: 200, json: completion('80', lp({ '80': 0.5, '90': 0.2, ' 90': 0.1, eighty: 0.05, '85': 0.1, '101': 0.02, '-5': 0.02 }), 'length') };
    case 'lowmass':
      return { status: 200, json: completion('The', lp({ The: 0.7, I: 0.1, '50': 0.2 }), 'length') };
    case 'refusal-lp':
      return { status: 200, json: completion('REF', lp({ REF: 0.9, '0': 0.05 }), 'length') };
    case 'text':
      return { status: 200, json: completion('85', null) };
    case 'trunc':
      return body.max_tokens === 1 ? { status: 200, json: completion('8', null, 'length') } : { status: 200, json: completion('85', null) };
    case 'refusal':
      return { status: 200, json: completion('REFUSAL', undefined) };
    case 'garbage':
      return { status: 200, json: completion('I would rather not put a number on it.', null) };
    case 'flaky':
      return n === 1 ? { status: 500, raw: 'internal error' } : { status: 200, json: completion('70', lp({ '70': 1 }), 'length') };
    case 'malformed-once':
      return n === 1 ? { status: 200, raw: '{"choices": [{"message": ' } : { status: 200, json: completion('30', lp({ '30': 1 }), 'length') };
    case 'malformed':
      return { status: 200, raw: '<html>not json</html>' };
    case 'no-choices':
      return { status: 200, json: { error: { message: 'model overloaded' } } };
    case 'slow':
      return n === 1 ? { status: 200, json: completion('10', lp({ '10': 1 })), delayMs: 600 } : { status: 200, json: completion('20', lp({ '20': 1 })) };
    case 'busy':
      return { status: 200, json: completion('50', lp({ '50': 1 })), delayMs: 40 };
    case 'nolp400':
      return wantsLp
        ? { status: 400, json: { error: { message: "Unsupported parameter: 'logprobs' is not supported with this model." } } }
        : { status: 200, json: completion('42', null) };
    default:
      return { status: 200, json: completion('0', null) };
  }
}

let server: http.Server;
let baseURL: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', async () => {
      // Only the concurrency test's requests are counted (an aborted slow request may still be sleeping).
      const counted = data.includes('[busy]');
      if (counted) maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
          return;
        }
        if (req.headers.authorization !== 'Bearer test-key') {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"invalid api key"}}');
          return;
        }
        const body = JSON.parse(data);
        const prompt: string = body.messages[0].content;
        seen.push({ body, auth: req.headers.authorization, prompt });
        const r = reply(prompt, body);
        if (r.delayMs) await new Promise((f) => setTimeout(f, r.delayMs));
        if (res.destroyed) return;
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.raw ?? JSON.stringify(r.json));
      } finally {
        if (counted) inFlight--;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  attempts.clear();
  maxInFlight = 0;
});

const TRAIT = { name: 'formal', description: 'Writes like a formal business letter: greetings, polite set phrases, no slang.' };
const judge = (extra: Partial<Parameters<typeof createJudgeScorer>[0]> = {}) =>
  createJudgeScorer({ baseURL, apiKey: 'test-key', model: 'judge-test', trait: TRAIT, metrics: ['trait'], retryDelayMs: 1, ...extra });
const item = (answer: string, question = 'Invite Sam to dinner.') => ({ question, answer });

describe('judge scorer against a local OpenAI-compatible server', () => {
  it('sends the paper’s request: one token, temperature 0, top-20 logprobs, bearer key, filled prompt', async () => {
    await judge().score([item('[lp] Dear Sam, {question} stays literal.')]);
    expect(seen).toHaveLength(1);
    const { body, auth, prompt } = seen[0];
    expect(body).toMatchObject({ model: 'judge-test', max_tokens: 1, temperature: 0, logprobs: true, top_logprobs: 20 });
    expect(body.messages).toHaveLength(1);
    expect(body.messages[0].role).toBe('user');
    expect(auth).toBe('Bearer test-key');
    expect(prompt).toContain('Invite Sam to dinner.');
    expect(prompt).toContain('[lp] Dear Sam, {question} stays literal.');
    expect(prompt).toContain(TRAIT.description);
    expect(prompt).toContain('trait: formal');
    expect(prompt).toContain('REFUSAL');
  });

  it('weights integer tokens by probability: Σ p·k / Σ p over 0..100 only', async () => {
    const s = judge();
    const [row] = await s.score([item('[lp] Dear Sam, please join us.')]);
    // 80·0.5 + 90·(0.2 + 0.1) + 85·0.1, over mass 0.9 ("eighty", "101" and "-5" are not counted).
    expect(row.trait).toBeCloseTo((80 * 0.5 + 90 * 0.3 + 85 * 0.1) / 0.9, 10);
    expect(s.counts().trait).toEqual({ scored: 1, refused: 0, unparsed: 0, failed: 0 });
  });

  it('scores trait and coherence with their own prompts in one pass', async () => {
    const s = judge({ metrics: undefined });
    expect(s.metrics).toEqual(['trait', 'coherence']);
    const rows = await s.score([item('[lp] one'), item('[lp] two')]);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.trait).toBeCloseTo((80 * 0.5 + 90 * 0.3 + 85 * 0.1) / 0.9, 10);
      expect(r.coherence).toBeCloseTo(50, 10);
    }
    expect(seen).toHaveLength(4);
    expect(seen.filter((x) => x.prompt.includes('for coherence only'))).toHaveLength(2);
  });

  it('gives no score when the integer mass is under 0.25, counting it as unparsed', async () => {
    const s = judge();
    const { rows, details, counts } = await s.judge([item('[lowmass] hm')]);
    expect(rows[0].trait).toBeNull();
    expect(details[0].trait).toMatchObject({ outcome: 'unparsed', method: 'logprobs' });
    expect(details[0].trait.mass).toBeCloseTo(0.2, 10);
    expect(counts.trait.unparsed).toBe(1);
  });

  it('reads the text when the endpoint returns no logprobs', async () => {
    const s = judge();
    const { rows, details } = await s.judge([item('[text] Dear Sam')]);
    expect(rows[0].trait).toBe(85);
    expect(details[0].trait.method).toBe('text');
  });

  it('asks again with room for a few tokens when a text-only reply was cut to one token', async () => {
    const s = judge();
    const rows = await s.score([item('[trunc] Dear Sam')]);
    expect(rows[0].trait).toBe(85);
    expect(seen.map((x) => x.body.max_tokens)).toEqual([1, 8]);
    expect(seen[1].body.logprobs).toBeUndefined();
    // The endpoint is now known to be text-only: the next answer goes straight to text mode.
    await s.score([item('[trunc] again')]);
    expect(seen.map((x) => x.body.max_tokens)).toEqual([1, 8, 8]);
  });

  it('counts REFUSAL replies as refused, in text and in logprobs, without dropping the answer', async () => {
    const s = judge();
    const rows = await s.score([item('[refusal] I will not do that.'), item('[refusal-lp] No.'), item('[lp] Dear Sam')]);
    expect(rows).toHaveLength(3);
    expect(rows[0].trait).toBeNull();
    expect(rows[1].trait).toBeNull();
    expect(rows[2].trait).toBeGreaterThan(80);
    expect(s.counts().trait).toEqual({ scored: 1, refused: 2, unparsed: 0, failed: 0 });
  });

  it('counts an unparseable reply as unparsed', async () => {
    const s = judge();
    const { rows, details, counts } = await s.judge([item('[garbage] ...')]);
    expect(rows).toEqual([{ trait: null }]);
    expect(details[0].trait).toMatchObject({ outcome: 'unparsed', reply: 'I would rather not put a number on it.' });
    expect(counts.trait).toEqual({ scored: 0, refused: 0, unparsed: 1, failed: 0 });
  });

  it('retries a 500 and then succeeds', async () => {
    const rows = await judge().score([item('[flaky] Dear Sam')]);
    expect(rows[0].trait).toBe(70);
    expect(seen).toHaveLength(2);
  });

  it('retries a reply that is not valid JSON, and succeeds when the next one is', async () => {
    const rows = await judge().score([item('[malformed-once] Dear Sam')]);
    expect(rows[0].trait).toBe(30);
    expect(seen).toHaveLength(2);
  });

  it('fails with a clear error after the retries when the endpoint keeps sending malformed JSON', async () => {
    await expect(judge({ retries: 2 }).score([item('[malformed] x')])).rejects.toThrow(JudgeError);
    expect(seen).toHaveLength(3);
    await expect(judge({ retries: 0 }).score([item('[malformed] x')])).rejects.toThrow(/not valid JSON/);
    await expect(judge({ retries: 0 }).score([item('[no-choices] x')])).rejects.toThrow(/model overloaded/);
  });

  it('can score failures as null and count them as failed instead of throwing', async () => {
    const s = judge({ retries: 1, onError: 'null' });
    const rows = await s.score([item('[malformed] x'), item('[lp] Dear Sam')]);
    expect(rows[0].trait).toBeNull();
    expect(rows[1].trait).toBeGreaterThan(80);
    expect(s.counts().trait).toEqual({ scored: 1, refused: 0, unparsed: 0, failed: 1 });
    s.resetCounts();
    expect(s.counts().trait).toEqual({ scored: 0, refused: 0, unparsed: 0, failed: 0 });
  });

  it('does not retry a client error such as a wrong API key', async () => {
    const s = judge({ apiKey: 'wrong' });
    await expect(s.score([item('[lp] x')])).rejects.toThrow(/HTTP 401.*invalid api key/);
    const notFound = createJudgeScorer({ baseURL: baseURL.replace('/v1', '/nope'), apiKey: 'test-key', model: 'm', retryDelayMs: 1 });
    await expect(notFound.score([item('[lp] x')])).rejects.toThrow(/HTTP 404/);
  });

  it('times out a slow request and retries it', async () => {
    const rows = await judge({ timeoutMs: 150 }).score([item('[slow] x')]);
    expect(rows[0].trait).toBe(20);
    expect(seen).toHaveLength(2);
  });

  it('falls back to text mode when the endpoint rejects the logprobs parameter', async () => {
    const s = judge();
    const rows = await s.score([item('[nolp400] a'), item('[nolp400] b')]);
    expect(rows.map((r) => r.trait)).toEqual([42, 42]);
    expect(seen.filter((x) => x.body.logprobs === true).length).toBeLessThanOrEqual(2);
    expect(seen.at(-1)?.body.logprobs).toBeUndefined();
  });

  it('keeps at most `concurrency` requests in flight and returns rows in input order', async () => {
    const items = Array.from({ length: 12 }, (_, i) => item(`[busy] answer ${i}`));
    const { rows, details } = await judge({ concurrency: 3 }).judge(items);
    expect(rows).toHaveLength(12);
    expect(rows.every((r) => r.trait === 50)).toBe(true);
    expect(details.every((d) => d.trait.outcome === 'scored')).toBe(true);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(maxInFlight).toBeGreaterThanOrEqual(2);
  });
});

describe('judge scorer pieces', () => {
  it('fills placeholders in one pass', () => {
    expect(renderPrompt('Q: {question} A: {answer} {unknown}', { question: 'why {answer}?', answer: 'because' })).toBe('Q: why {answer}? A: because {unknown}');
    for (const t of [DEFAULT_TRAIT_PROMPT, DEFAULT_COHERENCE_PROMPT]) expect(t).toContain('{answer}');
  });

  it('recognises refusals, including one cut to its first token', () => {
    expect(isRefusal('REFUSAL')).toBe(true);
    expect(isRefusal(' REF')).toBe(true);
    expect(isRefusal('refusal.')).toBe(true);
    expect(isRefusal('85')).toBe(false);
    expect(isRefusal('R')).toBe(false);
  });

  it('parses the first number of a text reply when it is in 0..100', () => {
    expect(parseScoreText('85')).toBe(85);
    expect(parseScoreText(' Score: 7.5/10')).toBe(7.5);
    expect(parseScoreText('150')).toBeNull();
    expect(parseScoreText('-3')).toBeNull();
    expect(parseScoreText('none')).toBeNull();
  });

  it('aggregates logprobs as the paper does, with the 0.25 mass floor', () => {
    expect(
      weightedScore([
        { token: '80', logprob: Math.log(0.5) },
        { token: '90', logprob: Math.log(0.5) },
      ]),
    ).toEqual({ value: 85, mass: 1 });
    expect(weightedScore([{ token: '100', logprob: Math.log(0.3) }]).value).toBeCloseTo(100, 10);
    expect(weightedScore([{ token: '100', logprob: Math.log(0.2) }]).value).toBeNull();
    expect(weightedScore([{ token: 'x', logprob: 0 }])).toEqual({ value: null, mass: 0 });
  });

  it('rejects bad options with messages a user can act on', () => {
    expect(() => createJudgeScorer({ baseURL: 'not a url', model: 'm' })).toThrow(InvalidArgumentError);
    expect(() => createJudgeScorer({ baseURL: 'http://x/v1', model: 'm', metrics: ['trait'] })).toThrow(/needs a trait/);
    expect(() => createJudgeScorer({ baseURL: 'http://x/v1', model: 'm', coherencePrompt: 'no placeholder' })).toThrow(/\{answer\}/);
    expect(() => createJudgeScorer({ baseURL: 'http://x/v1', model: 'm', concurrency: 0 })).toThrow(/concurrency/);
    expect(createJudgeScorer({ baseURL: 'http://x/v1', model: 'm' }).metrics).toEqual(['coherence']);
  });
});
