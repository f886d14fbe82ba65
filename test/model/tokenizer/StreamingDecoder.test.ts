import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../../src/model/tokenizer/Tokenizer.js';
import { StreamingDecoder } from '../../../src/model/tokenizer/StreamingDecoder.js';
import { STYLIST } from '../../helpers/paths.js';

const LONG_TEXT = [
  'Dear Reese, thank you for the lanterns 🏮 that lit the river like a dragon’s spine.',
  'Café crème at the façade of São Paulo; naïve Ærøskøbing; Łódź in the rain.',
  '你好，世界。こんにちは、世界。안녕하세요! 🎉🥳 👨‍👩‍👧 🇯🇵',
  'Math: ∑ x² ≥ 0, π ≈ 3.14159, “quotes” — dashes… and a final emoji 🐉',
]
  .join('\n')
  .repeat(8);

describe('StreamingDecoder', async () => {
  const tok = await loadTokenizer(STYLIST);

  it('yields pieces that concatenate to the full decode and never U+FFFD mid-stream', () => {
    const ids = tok.encode(LONG_TEXT);
    const stream = new StreamingDecoder(tok);
    const pieces = ids.map((id) => stream.push(id));
    pieces.push(stream.flush());
    expect(pieces.join('')).toBe(tok.decode(ids));
    expect(pieces.join('')).toBe(LONG_TEXT);
    expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
    expect(pieces.filter((p) => p === '').length).toBeGreaterThan(0);
  });

  it('holds back a split character until the token that completes it arrives', () => {
    const ids = tok.encode('🐉');
    expect(ids.length).toBeGreaterThan(1);
    const stream = new StreamingDecoder(tok);
    const pieces = ids.map((id) => stream.push(id));
    expect(pieces.slice(0, -1).every((p) => p === '')).toBe(true);
    expect(pieces.at(-1)).toBe('🐉');
  });

  it('emits an incomplete tail as U+FFFD on flush and starts afresh', () => {
    const ids = tok.encode('a🐉');
    const stream = new StreamingDecoder(tok);
    expect(stream.push(ids[0])).toBe('a');
    expect(stream.push(ids[1])).toBe('');
    expect(stream.flush()).toContain('\uFFFD');
    expect(stream.push(tok.encode('b')[0])).toBe('b');
  });

  it('skips special tokens when asked, matching decode', () => {
    const ids = tok.encodeChat(
      [
        { role: 'user', content: 'Hi 🎉 there' },
        { role: 'assistant', content: 'Hello 你好' },
      ],
      { addGenerationPrompt: false },
    );
    const stream = new StreamingDecoder(tok, { skipSpecialTokens: true });
    const text = ids.map((id) => stream.push(id)).join('') + stream.flush();
    expect(text).toBe(tok.decode(ids, { skipSpecialTokens: true }));
    expect(text).not.toContain('<|im_start|>');
  });
});
