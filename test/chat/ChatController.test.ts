import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ChatController } from '../../src/chat/ChatController.js';
import { ChatSession } from '../../src/chat/ChatSession.js';
import { PERSONAS } from '../helpers/paths.js';
import { fakeEngine, fakePersona } from './fakes.js';

function setup(opts: Parameters<typeof fakeEngine>[0] = {}, session: ConstructorParameters<typeof ChatSession>[1] = { persona: fakePersona() }) {
  const engine = fakeEngine(opts);
  const chat = new ChatController(engine, new ChatSession(engine.info, session), { personaDirs: [PERSONAS], maxNewTokens: 32 });
  return { engine, chat, session: chat.session };
}

describe('ChatController', () => {
  it('answers from the whole conversation, streaming pieces, and keeps both turns in the history', async () => {
    const { engine, chat, session } = setup({ answer: (row) => `answer ${(row.prompt as unknown[]).length}` });
    const pieces: string[] = [];
    const a1 = await chat.ask('Hi', { onPiece: (p) => pieces.push(p) });
    expect(pieces.join('')).toBe('answer 1');
    expect(a1).toMatchObject({ text: 'answer 1', stopped: false, ended: true, tokens: 3 });
    await chat.ask('And again?');
    expect(engine.rows[1].prompt).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'answer 1' },
      { role: 'user', content: 'And again?' },
    ]);
    expect(session.turns).toBe(2);
    expect(session.contextTokens).toBeGreaterThan(0);
  });

  it('steers the next answer with the alpha set between answers, and sends no steering at alpha 0 or when off', async () => {
    const { engine, chat } = setup();
    await chat.ask('one');
    expect(engine.rows[0].intervention).toBeNull();
    await chat.command({ type: 'alpha', value: -6 });
    await chat.ask('two');
    expect(engine.rows[1].intervention!.response!.delta![4 + 1]).toBe(-24); // -6 × gap vector (0, 4, 0, 0) at layer 1
    await chat.command({ type: 'steer', on: false });
    await chat.ask('three');
    expect(engine.rows[2].intervention).toBeNull();
    expect(chat.session.last).toMatchObject({ alpha: -6, steered: false });
  });

  it('measures the answer on the persona at the steered layer in gap units, without the end-of-turn token', async () => {
    const { engine, chat, session } = setup({ residual: 2, answer: 'a b c' });
    const a = await chat.ask('Hi');
    expect(a.projection).toBeCloseTo(0.5); // residual (0, 2, 0, 0) · (0, 4, 0, 0) / 4²
    expect(engine.measured[0]).toEqual([10, 11, 12]);
    expect(session.last!.projection).toBeCloseTo(0.5);
  });

  it('stops an answer when the signal aborts, keeping what was shown', async () => {
    const { chat, session } = setup({ answer: 'w '.repeat(30), slow: true });
    const abort = new AbortController();
    let n = 0;
    const a = await chat.ask('Talk a lot', { signal: abort.signal, onPiece: () => ++n === 3 && abort.abort() });
    expect(a.stopped).toBe(true);
    expect(a.text).toBe('w w w');
    expect(session.history[1]).toEqual({ role: 'assistant', content: 'w w w' });
    expect(session.last!.stopped).toBe(true);
  });

  it('drops the oldest exchanges when the conversation would not leave room for an answer', async () => {
    const { engine, chat, session } = setup({ context: 60, answer: 'one two three four five six seven eight' });
    for (let i = 0; i < 3; i++) await chat.ask('tell me more please');
    const last = await chat.ask('tell me more please');
    expect(last.droppedTurns).toBeGreaterThan(0);
    const prompt = engine.rows.at(-1)!.prompt as unknown[];
    expect(prompt.length).toBeLessThan(7);
    expect(session.history.length).toBe(prompt.length + 1);
  });

  it('keeps the history when max new tokens alone would fill the context, shortening the answer instead', async () => {
    const engine = fakeEngine({ context: 100, answer: 'a b c' });
    const chat = new ChatController(engine, new ChatSession(engine.info, { persona: fakePersona() }), { personaDirs: [], maxNewTokens: 500 });
    await chat.ask('one');
    const second = await chat.ask('two');
    expect(second.droppedTurns).toBe(0);
    expect(engine.rows[1].prompt).toHaveLength(3);
    expect(engine.rows[1].maxNewTokens).toBe(100 - 16); // context − the fake prompt: 3 messages of 1 + 3 + 1 words, 3 tokens each + 2
  });

  it('refuses a message too long for the context with a clear error', async () => {
    const { chat } = setup({ context: 20 });
    await expect(chat.ask('word '.repeat(30))).rejects.toThrow(/leaving no room for an answer\. Send a shorter one/);
  });

  it('switches to a shipped persona by name, lists them, and explains a persona for another model', async () => {
    const { chat } = setup();
    const list = await chat.command({ type: 'persona', ref: null });
    expect(list.text).toMatch(/formal: formal and professional/);
    expect(list.text).toMatch(/vivid/);
    expect(list.text).toMatch(/made for stylist, not this model/);
    const other = await chat.command({ type: 'persona', ref: 'vivid' });
    expect(other.kind).toBe('error');
    expect(other.text).toMatch(/Persona "vivid" was made for stylist \(6 layers × hidden 256\)/);
    const missing = await chat.command({ type: 'persona', ref: 'pirate' });
    expect(missing).toMatchObject({ kind: 'error', text: expect.stringMatching(/No persona "pirate"\. Available: formal, vivid/) });
    const file = await chat.command({ type: 'persona', ref: path.join(PERSONAS, 'nope.persona.json') });
    expect(file.text).toMatch(/not found/);
  });

  it('carries out the setting commands and reports a bad one as an error, not a crash', async () => {
    const { chat, session } = setup();
    expect((await chat.command({ type: 'alpha', value: 1.5 })).text).toBe('alpha +1.5');
    expect((await chat.command({ type: 'layer', layers: [2] })).text).toBe('layer 2');
    expect((await chat.command({ type: 'layer', layers: [7] })).kind).toBe('error');
    expect((await chat.command({ type: 'layer', layers: null })).text).toMatch(/layer 1 \(the persona's recommended layer\)/);
    expect((await chat.command({ type: 'layer', layers: [1, 2] })).text).toBe('layer 1, 2');
    expect((await chat.command({ type: 'operator', operator: 'ablate' })).text).toBe('operator ablate (alpha not used)');
    expect(session.steers).toBe(true);
    expect(session.intervention()!.response!.clamps.map((c) => c.layer)).toEqual([1, 2]);
    expect((await chat.command({ type: 'operator', operator: 'add' })).text).toBe('operator add, alpha +1.5');
    await chat.command({ type: 'layer', layers: null });
    await chat.ask('Hi');
    expect((await chat.command({ type: 'history' })).text).toBe('you: Hi\nmodel: Dear Sam, kind regards.');
    expect((await chat.command({ type: 'reset' })).text).toMatch(/conversation cleared/);
    expect(session.history).toEqual([]);
    expect((await chat.command({ type: 'help' })).text).toMatch(/\/alpha 1\.5/);
    expect((await chat.command({ type: 'quit' })).quit).toBe(true);
  });
});
