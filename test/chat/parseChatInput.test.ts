import { describe, expect, it } from 'vitest';
import { parseChatInput } from '../../src/chat/parseChatInput.js';

describe('parseChatInput', () => {
  it('sends plain text as a message, trimmed', () => {
    expect(parseChatInput('  Thank Sam for the flowers.  ')).toEqual({ type: 'message', text: 'Thank Sam for the flowers.' });
  });

  it('treats a blank line as nothing to do', () => {
    expect(parseChatInput('   ')).toEqual({ type: 'empty' });
  });

  it('reads /alpha with negative, decimal and exponent values', () => {
    expect(parseChatInput('/alpha -2.5')).toEqual({ type: 'alpha', value: -2.5 });
    expect(parseChatInput('/alpha 1.5')).toEqual({ type: 'alpha', value: 1.5 });
    expect(parseChatInput('/ALPHA +3')).toEqual({ type: 'alpha', value: 3 });
    expect(parseChatInput('/a .5')).toEqual({ type: 'alpha', value: 0.5 });
    expect(parseChatInput('/alpha 1e1')).toEqual({ type: 'alpha', value: 10 });
  });

  it('rejects an alpha that is not a number, with a message saying so', () => {
    for (const bad of ['/alpha lots', '/alpha 0x10', '/alpha Infinity', '/alpha 1.2.3']) {
      const r = parseChatInput(bad);
      expect(r.type, bad).toBe('invalid');
      expect((r as { message: string }).message).toMatch(/alpha must be a number; got "/);
    }
    expect(parseChatInput('/alpha')).toMatchObject({ type: 'invalid', message: expect.stringMatching(/Give a number/) });
  });

  it('reads /steer on, off and a bare /steer as a toggle', () => {
    expect(parseChatInput('/steer on')).toEqual({ type: 'steer', on: true });
    expect(parseChatInput('/steer OFF')).toEqual({ type: 'steer', on: false });
    expect(parseChatInput('/steer')).toEqual({ type: 'steer', on: 'toggle' });
    expect(parseChatInput('/steer maybe').type).toBe('invalid');
  });

  it('reads /persona with a name, a path with spaces, or nothing (a listing)', () => {
    expect(parseChatInput('/persona vivid')).toEqual({ type: 'persona', ref: 'vivid' });
    expect(parseChatInput('/persona my dir/x.persona.json')).toEqual({ type: 'persona', ref: 'my dir/x.persona.json' });
    expect(parseChatInput('/persona')).toEqual({ type: 'persona', ref: null });
  });

  it('reads /layer as an integer or a list, or back to the default without one; /operator with its cap', () => {
    expect(parseChatInput('/layer 3')).toEqual({ type: 'layer', layers: [3] });
    expect(parseChatInput('/layer -1')).toEqual({ type: 'layer', layers: [-1] });
    expect(parseChatInput('/layer 2-4')).toEqual({ type: 'layer', layers: [2, 3, 4] });
    expect(parseChatInput('/layer')).toEqual({ type: 'layer', layers: null });
    expect(parseChatInput('/operator ablate')).toEqual({ type: 'operator', operator: 'ablate' });
    expect(parseChatInput('/operator cap 1.5')).toEqual({ type: 'operator', operator: 'cap', cap: 1.5 });
    expect(parseChatInput('/operator cap').type).toBe('invalid');
    expect(parseChatInput('/operator blend').type).toBe('invalid');
    expect(parseChatInput('/layer 1.5').type).toBe('invalid');
  });

  it('knows /reset, /help, /history, /quit and /exit', () => {
    expect(parseChatInput('/reset').type).toBe('reset');
    expect(parseChatInput('/help').type).toBe('help');
    expect(parseChatInput('/history').type).toBe('history');
    expect(parseChatInput('/quit').type).toBe('quit');
    expect(parseChatInput('/exit').type).toBe('quit');
  });

  it('reports an unknown command and lets // send a message that starts with a slash', () => {
    expect(parseChatInput('/frobnicate')).toMatchObject({ type: 'invalid', message: expect.stringMatching(/Unknown command \/frobnicate/) });
    expect(parseChatInput('//etc/hosts is a file')).toEqual({ type: 'message', text: '/etc/hosts is a file' });
  });
});
