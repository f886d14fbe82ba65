import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LanguageModel } from '../../src/engine/LanguageModel.js';
import { computePersonaVector } from '../../src/persona/computePersonaVector.js';
import { generateSweep } from '../../src/eval/evaluate/generateSweep.js';
import { startServer, type PersonaServer } from '../../src/server/startServer.js';
import { CLI } from '../helpers/paths.js';
import { thinkingModelFolder } from './thinkingModel.js';

let dir: string;
let model: LanguageModel;
let server: PersonaServer;
let client: OpenAI;

beforeAll(async () => {
  dir = await thinkingModelFolder();
  model = await loadModel(dir);
  const personasDir = await fs.mkdtemp(path.join(os.tmpdir(), 'persona-none-'));
  server = await startServer({ model: dir, port: 0, personasDir, threads: 1 });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await server?.close();
  await model?.dispose();
});

const user = [{ role: 'user' as const, content: 'Hello' }];

describe("thinking on Qwen3's real chat template", () => {
  it('is off by default in the library, as in transformers: the prompt holds an empty think block', async () => {
    const [off] = await model.generate([user], { maxNewTokens: 8 });
    expect(model.tokenizer.decode(off.promptIds)).toMatch(/<\|im_start\|>assistant\n<think>\n\n<\/think>\n\n$/);
    expect(off.text).toBe('Hi');
    expect(off.reasoning).toBeUndefined();
  });

  it('keeps the thinking apart from the answer in the library with thinking: true', async () => {
    const [on] = await model.generate([user], { maxNewTokens: 8, thinking: true });
    expect(model.tokenizer.decode(on.promptIds)).toMatch(/<\|im_start\|>assistant\n$/);
    expect(on.text).toBe('Hi');
    expect(on.reasoning).toBe('Plan');
    // <think> Plan </think> \n\n, then the answer.
    expect(on.contentStart).toBe(4);
    expect(model.tokenizer.decode(on.tokens.slice(on.contentStart))).toBe('Hi<|im_end|>');
  });

  it('is turned on in the server by chat_template_kwargs, with reasoning_content in the message', async () => {
    const on = await client.chat.completions.create({
      model: 'x',
      messages: user,
      max_tokens: 8,
      temperature: 0,
      chat_template_kwargs: { enable_thinking: true },
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const message = on.choices[0].message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    expect(message.content).toBe('Hi');
    expect(message.reasoning_content).toBe('Plan');
    const off = await client.chat.completions.create({ model: 'x', messages: user, max_tokens: 8, temperature: 0 });
    expect(off.choices[0].message.content).toBe('Hi');
    expect('reasoning_content' in off.choices[0].message).toBe(false);
  });

  it('streams the thinking as reasoning_content deltas before the content deltas', async () => {
    const stream = await client.chat.completions.create({
      model: 'x',
      messages: user,
      max_tokens: 8,
      temperature: 0,
      stream: true,
      chat_template_kwargs: { enable_thinking: true },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    const kinds: string[] = [];
    let reasoning = '';
    let content = '';
    for await (const c of stream) {
      const d = c.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
      if (d?.reasoning_content) {
        reasoning += d.reasoning_content;
        kinds.push('r');
      }
      if (d?.content) {
        content += d.content;
        kinds.push('c');
      }
    }
    expect(reasoning).toBe('Plan');
    expect(content).toBe('Hi');
    expect(kinds.join('')).toMatch(/^r+c+$/);
  });

  it('leaves the thinking out of the answers persona extraction reads, unless asked', async () => {
    const prompts = ['Hello', 'Hi there'];
    const opts = { model, positivePrompts: prompts, negativePrompts: prompts, maxNewTokens: 8, sampling: { temperature: 0 }, thinking: true };
    const answerOnly = await computePersonaVector(opts);
    expect([...answerOnly.positiveAnswers, ...answerOnly.negativeAnswers]).toEqual(['Hi', 'Hi', 'Hi', 'Hi']);
    // The blocks add nothing, so the residual at a token is its embedding: a basis vector per token of
    // the chain. Pooled over the answer alone ("Hi") its norm is 1; over <think> Plan </think> \n\n Hi,
    // the mean of five basis vectors, √5/5.
    expect(answerOnly.persona.meta.layers[0].residNorm).toBeCloseTo(1, 4);
    const withThinking = await computePersonaVector({ ...opts, includeReasoning: true });
    expect(withThinking.persona.meta.layers[0].residNorm).toBeCloseTo(Math.sqrt(5) / 5, 4);
  });

  it('splits the thinking off the answers an evaluation sweep scores', async () => {
    const rows = [{ prompt: user, intervention: null, seed: 0 }];
    const [on] = await generateSweep(model, rows, { maxNewTokens: 8, sampling: { temperature: 0 }, thinking: true });
    expect(on).toMatchObject({ text: 'Hi', reasoning: 'Plan', contentStart: 4 });
    const [off] = await generateSweep(model, rows, { maxNewTokens: 8, sampling: { temperature: 0 } });
    expect(off.text).toBe('Hi');
    expect(off.tokens).toHaveLength(2);
  });

  it('is a flag of persona run: --thinking on splits the thinking off (reasoning in --json, stderr otherwise)', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'run', '--model', dir, '--prompt', 'Hello', '--max-new-tokens', '8', ...args], { encoding: 'utf8', timeout: 180_000 });
    const on = run('--thinking', 'on', '--json');
    expect(on.status, on.stderr).toBe(0);
    expect(JSON.parse(on.stdout)).toMatchObject({ text: 'Hi', reasoning: 'Plan' });
    const plain = run('--thinking', 'on');
    expect(plain.stdout).toBe('Hi\n');
    expect(plain.stderr).toContain('(thinking) Plan');
    const off = run('--json');
    expect(JSON.parse(off.stdout).text).toBe('Hi');
    expect(JSON.parse(off.stdout).reasoning).toBeUndefined();
    expect(run('--thinking', 'maybe').status).not.toBe(0);
  });
});
