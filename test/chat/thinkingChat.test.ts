import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatController } from '../../src/chat/ChatController.js';
import { ChatSession } from '../../src/chat/ChatSession.js';
import { EngineWorker } from '../../src/engine/worker/EngineWorker.js';
import { CLI } from '../helpers/paths.js';
import { thinkingModelFolder } from '../server/thinkingModel.js';

describe('chat with a thinking model (Qwen3 template, scripted answer)', () => {
  let dir: string;
  let engine: EngineWorker;
  beforeAll(async () => {
    dir = await thinkingModelFolder();
    engine = await EngineWorker.start({ model: dir, threads: 1 });
  });
  afterAll(async () => {
    await engine?.close();
  });

  const chat = (thinking?: boolean) => new ChatController(engine, new ChatSession(engine.info, {}), { personaDirs: [], maxNewTokens: 8, thinking });

  it('streams the thinking apart from the answer, and keeps only the answer in the history', async () => {
    const c = chat(true);
    const reasoning: string[] = [];
    const pieces: string[] = [];
    const a = await c.ask('Hello', { onReasoning: (p) => reasoning.push(p), onPiece: (p) => pieces.push(p) });
    expect(reasoning.join('')).toBe('Plan');
    expect(pieces.join('')).toBe('Hi');
    expect(a).toMatchObject({ text: 'Hi', reasoning: 'Plan', ended: true });
    expect(c.session.history.map((m) => m.content)).toEqual(['Hello', 'Hi']);
  });

  it('does not think by default', async () => {
    const a = await chat().ask('Hello');
    expect(a).toMatchObject({ text: 'Hi', reasoning: null });
  });

  it('shows the thinking marked apart in persona chat --thinking on (piped)', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'chat', '--model', dir, '--max-new-tokens', '8', ...args], { input: 'Hello\n', encoding: 'utf8', timeout: 180_000 });
    const on = run('--thinking', 'on');
    expect(on.status, on.stderr).toBe(0);
    expect(on.stdout).toMatch(/\(thinking\) Plan\nHi/);
    const off = run();
    expect(off.stdout).not.toContain('(thinking)');
    expect(off.stdout).toMatch(/Hi/);
  });
});
