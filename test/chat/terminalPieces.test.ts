import { describe, expect, it } from 'vitest';
import { ChatSession } from '../../src/chat/ChatSession.js';
import { formatAnswerLabel, formatStatusLine } from '../../src/chat/formatStatusLine.js';
import { LineEditor } from '../../src/chat/LineEditor.js';
import { StreamWrapper } from '../../src/chat/StreamWrapper.js';
import { displayWidth, formatAlpha, makeStyle, truncateToWidth } from '../../src/chat/terminalText.js';
import { fakePersona } from './fakes.js';

describe('the line editor', () => {
  it('inserts at the cursor, deletes either side and hands the line over', () => {
    const ed = new LineEditor();
    ed.insert('helo wrld');
    ed.home();
    for (let i = 0; i < 3; i++) ed.right();
    ed.insert('l');
    ed.end();
    for (let i = 0; i < 3; i++) ed.left();
    ed.insert('o');
    expect(ed.text).toBe('hello world');
    ed.backspace();
    ed.deleteForward();
    expect(ed.text).toBe('hello wld');
    ed.deleteWordBack();
    expect(ed.text).toBe('hello ld');
    expect(ed.take()).toBe('hello ld');
    expect(ed.isEmpty).toBe(true);
  });

  it('kills to either end and never splits a character', () => {
    const ed = new LineEditor();
    ed.insert('ab😀cd');
    ed.left();
    ed.left();
    expect(ed.beforeCursor).toBe('ab😀');
    ed.killToEnd();
    ed.backspace();
    expect(ed.text).toBe('ab');
    ed.killToStart();
    expect(ed.text).toBe('');
  });
});

describe('the stream wrapper', () => {
  it('wraps streamed words at the width, starting after the label, and never cuts a word that fits', () => {
    const w = new StreamWrapper(20, 8);
    const out = ['Dear Sa', 'm, I hope this', ' message finds', ' you well.'].map((p) => w.push(p)).join('') + w.flush();
    expect(out).toBe('Dear Sam, I\nhope this message\nfinds you well.');
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(20);
  });

  it('cuts a word longer than the width and keeps the newlines of the text', () => {
    const w = new StreamWrapper(10);
    expect(w.push('.'.repeat(25)) + w.flush()).toBe('..........\n..........\n.....');
    const v = new StreamWrapper(10);
    expect(v.push('ab\ncd ef') + v.flush()).toBe('ab\ncd ef');
  });
});

describe('terminal text', () => {
  it('measures wide and styled text in columns and truncates with an ellipsis', () => {
    expect(displayWidth('\x1b[1mhi\x1b[22m 你好')).toBe(7);
    expect(truncateToWidth('formal │ alpha +1.0', 10)).toBe('formal │ …');
    expect(makeStyle(false).red('x')).toBe('x');
    expect(makeStyle(true).red('x')).toBe('\x1b[31mx\x1b[39m');
  });

  it('shows alpha signed with one decimal unless it needs more', () => {
    expect(formatAlpha(-6)).toBe('-6.0');
    expect(formatAlpha(1.25)).toBe('+1.25');
    expect(formatAlpha(0)).toBe('0.0');
  });
});

describe('the status line', () => {
  const shape = { id: 'fake', numLayers: 3, hiddenSize: 4 };

  it("shows persona, alpha, layer, steering and the last answer's projection with the alpha it was written at", () => {
    const s = new ChatSession(shape, { persona: fakePersona(), alpha: -6 });
    s.recordAnswer('Hi', 'hey!!', { persona: 'formal', alpha: -6, layer: 1, steered: true, tokens: 3, stopped: false, projection: -0.781 }, 40);
    expect(formatStatusLine(s, { contextSize: 512 })).toBe('formal │ alpha -6.0 │ layer 1 │ steering on │ last answer: proj -0.78 │ 1 turn · 40/512 tokens');
    s.nudgeAlpha(+1);
    s.setSteering(false);
    expect(formatStatusLine(s)).toBe('formal │ alpha -5.0 │ layer 1 │ steering OFF │ last answer (alpha -6.0): proj -0.78 │ 1 turn');
    expect(displayWidth(formatStatusLine(s, { width: 30 }))).toBeLessThanOrEqual(30);
    expect(formatStatusLine(s, { style: makeStyle(true) })).toContain('\x1b[31mOFF');
  });

  it('says when there is no persona, and labels answers with their steering', () => {
    const s = new ChatSession(shape);
    expect(formatStatusLine(s)).toBe('no persona (/persona NAME) │ 0 turns');
    expect(formatAnswerLabel(s)).toBe('model [unsteered] › ');
    const f = new ChatSession(shape, { persona: fakePersona(), alpha: 2, layer: 2 });
    expect(formatAnswerLabel(f)).toBe('model [formal alpha +2.0 layer 2] › ');
    expect(formatStatusLine(f)).toContain('layer 2 │');
  });
});
