import { describe, expect, it } from 'vitest';
import { ChatSession, defaultAlphaStep } from '../../src/chat/ChatSession.js';
import { fakePersona } from './fakes.js';

const shape = { id: 'fake', numLayers: 3, hiddenSize: 4 };

describe('ChatSession', () => {
  it("starts at alpha 0 on the persona's recommended layer, steering on, so the first answer is unsteered", () => {
    const s = new ChatSession(shape, { persona: fakePersona() });
    expect(s.alpha).toBe(0);
    expect(s.layer).toBe(1);
    expect(s.steering).toBe(true);
    expect(s.steers).toBe(false);
    expect(s.intervention()).toBeNull();
  });

  it("moves alpha by one step per arrow press, a sixteenth of the persona's range, without float fuzz", () => {
    const s = new ChatSession(shape, { persona: fakePersona() });
    expect(s.alphaStep).toBe(1);
    for (let i = 0; i < 6; i++) s.nudgeAlpha(-1);
    expect(s.alpha).toBe(-6);
    const fine = new ChatSession(shape, { persona: fakePersona('x', { alphaRange: [-1, 1] }) });
    expect(fine.alphaStep).toBe(0.1);
    for (let i = 0; i < 3; i++) fine.nudgeAlpha(+1);
    expect(fine.alpha).toBe(0.3);
    expect(defaultAlphaStep(fakePersona('y', { alphaRange: [-40, 40] }))).toBe(5);
    expect(defaultAlphaStep(null)).toBe(0.5);
  });

  it('steers with alpha times the raw gap at the chosen layer, and not at all when off', () => {
    const p = fakePersona();
    const s = new ChatSession(shape, { persona: p, alpha: 2 });
    const iv = s.intervention()!;
    // positions 'all': the same steering on the prompt and on the response.
    expect(iv.prompt).toBe(iv.response);
    expect([...iv.response!.delta!.subarray(4, 8)]).toEqual([0, 8, 0, 0]); // layer 1: 2 × (0, 4, 0, 0)
    expect([...iv.response!.delta!.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    s.setLayer(-1);
    expect(s.layer).toBe(2);
    expect(s.layerIsDefault).toBe(false);
    expect([...s.intervention()!.response!.delta!.subarray(8, 12)]).toEqual([0, 0, 12, 0]);
    s.setSteering('toggle');
    expect(s.steering).toBe(false);
    expect(s.intervention()).toBeNull();
    expect(s.alpha).toBe(2);
  });

  it('rejects a layer out of range and an alpha that is not finite, keeping the old values', () => {
    const s = new ChatSession(shape, { persona: fakePersona(), alpha: 1 });
    expect(() => s.setLayer(3)).toThrow(/Layer 3 is out of range: the model has 3 decoder layers/);
    expect(() => s.setAlpha(NaN)).toThrow(/alpha must be a finite number/);
    expect(s.layer).toBe(1);
    expect(s.alpha).toBe(1);
  });

  it('switches persona only to one made for a model of this shape, keeping alpha and the conversation', () => {
    const s = new ChatSession(shape, { persona: fakePersona('formal'), alpha: 3 });
    s.recordAnswer('Hi', 'Dear you.', { persona: 'formal', alpha: 3, layer: 1, steered: true, tokens: 3, stopped: false, projection: 0.2 }, 20);
    s.setPersona(fakePersona('vivid', { recommendedLayer: 2 }));
    expect(s.persona!.name).toBe('vivid');
    expect(s.layer).toBe(2);
    expect(s.alpha).toBe(3);
    expect(s.history).toHaveLength(2);
    expect(() => s.setPersona(fakePersona('big', { hiddenSize: 8 }))).toThrow(/was made for fake \(3 layers × hidden 8\)/);
    expect(s.persona!.name).toBe('vivid');
  });

  it('builds the whole conversation with the system prompt first and the new message last', () => {
    const s = new ChatSession(shape, { persona: fakePersona(), system: 'Be brief.' });
    s.recordAnswer('Hi', 'Hello.', { persona: 'formal', alpha: 0, layer: 1, steered: false, tokens: 2, stopped: false, projection: null }, 12);
    expect(s.messages('And you?')).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'And you?' },
    ]);
    expect(s.turns).toBe(1);
  });

  it('drops the oldest exchange whole, and reset forgets the conversation but keeps the settings', () => {
    const s = new ChatSession(shape, { persona: fakePersona(), alpha: -2 });
    const last = { persona: 'formal', alpha: -2, layer: 1, steered: true, tokens: 2, stopped: false, projection: -0.5 };
    s.recordAnswer('one', 'a1', last, 10);
    s.recordAnswer('two', 'a2', last, 20);
    expect(s.dropOldestTurn()).toBe(true);
    expect(s.history.map((m) => m.content)).toEqual(['two', 'a2']);
    s.reset();
    expect(s.history).toEqual([]);
    expect(s.last).toBeNull();
    expect(s.contextTokens).toBe(0);
    expect(s.alpha).toBe(-2);
    expect(s.dropOldestTurn()).toBe(false);
  });

  it('chats without a persona, unsteered, until one is chosen', () => {
    const s = new ChatSession(shape, { alpha: 4 });
    expect(s.layer).toBeNull();
    expect(s.steers).toBe(false);
    expect(s.intervention()).toBeNull();
  });
});
