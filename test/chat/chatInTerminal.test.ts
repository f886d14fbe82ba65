import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, STYLIST } from '../helpers/paths.js';
import { HAS_TMUX, TmuxTerminal } from './tmuxTerminal.js';

const markers = JSON.parse(readFileSync(path.join(STYLIST, 'style_markers.json'), 'utf8')) as Record<string, string[]>;
const count = (text: string, list: string[]) => list.reduce((n, m) => n + text.toLowerCase().split(m).length - 1, 0);

/** The answer printed after the last `label` (its wrapped lines joined), up to the blank line after it. */
function answerAfter(screen: string, label: string): string {
  const lines = screen.split('\n');
  const i = lines.map((l) => l.startsWith(label)).lastIndexOf(true);
  if (i < 0) throw new Error(`No answer labelled "${label}" on the screen:\n${screen}`);
  const body = [lines[i].slice(label.length)];
  for (let j = i + 1; j < lines.length && lines[j].trim() !== ''; j++) body.push(lines[j]);
  return body.join(' ');
}

/** The status line and input line, when the chat waits at its prompt. */
function promptBlock(screen: string): { status: string; input: string } | null {
  const lines = screen.split('\n').filter((l) => l.trim());
  const input = lines.at(-1) ?? '';
  return input.startsWith('you ›') ? { status: lines.at(-2) ?? '', input } : null;
}

/** Waits until the chat is at its prompt with a status line matching `status`. */
const atPrompt = (t: TmuxTerminal, status: RegExp) => t.waitFor((s) => status.test(promptBlock(s)?.status ?? ''));

/**
 * The alpha scenarios below steer formal at layer 1 in steps of 1 (where ±6 reads casual / formal),
 * whatever layer and range the shipped persona records; the persona test reads those from its file.
 */
const AT_LAYER_1 = ['--layer', '1', '--alpha-step', '1'];
const layerOf = (name: string): number => JSON.parse(readFileSync(path.join(ROOT, 'personas', `${name}.persona.json`), 'utf8')).recommendedLayer;

const proj = (status: string) => Number(/proj ([-+]\d+\.\d+)/.exec(status)![1]);
const contextUsed = (status: string) => Number(/(\d+)\/512 tokens/.exec(status)![1]);

/** Runs `persona chat ARGS` in its own tmux server for `body`, and kills that server in `finally`. */
async function withChat(name: string, args: string[], body: (t: TmuxTerminal) => Promise<void>): Promise<void> {
  const t = new TmuxTerminal(`pv-chat-${name}-${process.pid}`);
  try {
    t.start([process.execPath, CLI, 'chat', ...args], ROOT);
    await body(t);
  } finally {
    t.kill();
  }
}

describe.skipIf(!HAS_TMUX)('persona chat in a real terminal (tmux)', () => {
  it('arrow keys and /alpha change alpha between answers, the next answer follows, and the history is kept', () =>
    withChat('alpha', ['--max-new-tokens', '64', ...AT_LAYER_1], async (t) => {
      const ask = 'Please thank Sam for the lovely flowers.';
      await atPrompt(t, /^formal │ alpha 0\.0 │ layer 1 │ steering on │ 0 turns/);

      t.type(ask);
      let s = await atPrompt(t, /1 turn ·/);
      expect(answerAfter(s, 'model [unsteered] › ')).toMatch(/^Dear Sam/);
      const used1 = contextUsed(promptBlock(s)!.status);

      t.send('Down', 'Down', 'Down', 'Down', 'Down', 'Down');
      await atPrompt(t, /alpha -6\.0 │.*last answer \(unsteered\): proj/);
      t.type(ask);
      s = await atPrompt(t, /2 turns ·/);
      const casual = answerAfter(s, 'model [formal alpha -6.0 layer 1] › ');
      const projCasual = proj(promptBlock(s)!.status);
      const used2 = contextUsed(promptBlock(s)!.status);

      t.send('Up', 'Up', 'Up');
      await atPrompt(t, /alpha -3\.0 │/);
      t.type('/alpha 6');
      await atPrompt(t, /alpha \+6\.0 │/);
      t.type(ask);
      s = await atPrompt(t, /3 turns ·/);
      const formal = answerAfter(s, 'model [formal alpha +6.0 layer 1] › ');
      const projFormal = proj(promptBlock(s)!.status);

      // Steering away from "formal" gives casual markers; towards it, formal ones.
      expect(count(casual, markers.casual), casual).toBeGreaterThan(0);
      expect(casual).toMatch(/gonna|lol|hey|!!/);
      expect(count(formal, markers.formal), formal).toBeGreaterThan(0);
      expect(formal).toMatch(/Dear|sincerely|regards/);
      expect(count(casual, markers.casual) - count(casual, markers.formal)).toBeGreaterThan(count(formal, markers.casual) - count(formal, markers.formal));
      // The indicator: the casual answer projects below the formal one on the persona vector.
      expect(projCasual).toBeLessThan(0);
      expect(projCasual).toBeLessThan(projFormal);

      // History: each answer is generated from the whole conversation, which the context count shows growing.
      expect(used2).toBeGreaterThan(used1 + 20);
      t.type('/history');
      s = await t.waitFor(/\/history\n(.*\n)*model: .*\n(.*\n)*model: .*\n(.*\n)*model: /);
      expect(s.split('\n').filter((l) => l === `you: ${ask}`)).toHaveLength(3);
      t.type('/reset');
      await atPrompt(t, /alpha \+6\.0 │ layer 1 │ steering on │ 0 turns · 0\/512 tokens/);

      t.send('C-d');
      s = await t.waitFor(/EXIT=\d+/);
      expect(s).toMatch(/bye\nEXIT=0$/);
    }));

  // +8 greedy never closes its turn: 480 tokens on one thread take a while to stream (300 on two
  // threads once finished before the Ctrl-C arrived, on a loaded machine after generation got faster).
  it('Ctrl-C stops a running answer without quitting; a second Ctrl-C at the prompt quits cleanly', () =>
    withChat('ctrlc', ['--alpha', '8', '--max-new-tokens', '480', '--threads', '1', ...AT_LAYER_1], async (t) => {
      await atPrompt(t, /alpha \+8\.0/);
      t.type('Hello');
      await t.waitFor(/model \[formal alpha \+8\.0 layer 1\] › \S/, 30_000, 5);
      t.send('C-c');
      let s = await atPrompt(t, /1 turn ·/);
      expect(s).toMatch(/⏹ stopped/);
      const status = promptBlock(s)!.status;
      expect(status).toMatch(/proj [-+]\d\.\d\d \(stopped\)/);
      // Prompt + a stopped answer, well short of 480 tokens (and short enough that the next exchange
      // fits in the 512-token context beside it). How far it got depends on the machine: 243 once,
      // when sampling stopped copying the whole row of logits per token.
      expect(contextUsed(status)).toBeLessThan(320);

      // Still running: the next message is answered, with the stopped exchange in the history.
      t.type('/alpha 0');
      t.type('Hello again');
      s = await atPrompt(t, /alpha 0\.0 │.* 2 turns ·/);
      expect(s).toMatch(/you › Hello again\nmodel \[unsteered\] › /);
      t.type('/history');
      await t.waitFor(/\/history\nyou: Hello\nmodel: Greetings,[^]*\nyou: Hello again\nmodel:/);

      t.type('half-typed', false);
      t.send('C-c');
      s = await t.waitFor((x) => /Press Ctrl-C again \(or Ctrl-D\) to quit\./.test(promptBlock(x)?.status ?? ''));
      expect(promptBlock(s)!.input).toBe('you ›');
      t.send('C-c');
      s = await t.waitFor(/EXIT=\d+/);
      expect(s).toMatch(/bye\nEXIT=0$/);
    }));

  it('switches persona, toggles steering with Ctrl-T and /steer, shows help and explains bad input', () =>
    withChat('persona', ['--alpha', '1.2'], async (t) => {
      await atPrompt(t, new RegExp(`^formal │ alpha \\+1\\.2 │ layer ${layerOf('formal')} │ steering on`));
      t.send('C-t');
      await atPrompt(t, /steering OFF/);
      t.type('/steer on');
      await atPrompt(t, /steering on/);
      t.type('/persona vivid');
      let s = await atPrompt(t, new RegExp(`^vivid │ alpha \\+1\\.2 │ layer ${layerOf('vivid')} │ steering on`));
      expect(s).toMatch(/persona vivid: vivid, creative imagery/);
      t.type('/alpha lots');
      s = await t.waitFor(/alpha must be a number; got "lots"\./);
      t.type('/layer 9');
      s = await t.waitFor(/Layer 9 is out of range: the model has 6 decoder layers/);
      t.type('/persona pirate');
      s = await t.waitFor(/No persona "pirate"\. Available: formal, vivid/);
      t.type('/help');
      s = await t.waitFor(/Ctrl-T +steering on \/ off/);
      t.type('Describe a quiet harbour.');
      s = await atPrompt(t, /1 turn ·/);
      expect(answerAfter(s, `model [vivid alpha +1.2 layer ${layerOf('vivid')}] › `).length).toBeGreaterThan(10);
      t.type('/quit');
      s = await t.waitFor(/EXIT=\d+/);
      expect(s).toMatch(/bye\nEXIT=0$/);
    }));
});

describe('persona chat without a terminal', () => {
  it('reads messages and commands from piped lines and prints each answer with the status line', () => {
    const r = spawnSync(process.execPath, [CLI, 'chat', '--max-new-tokens', '48', ...AT_LAYER_1], {
      input: 'Please thank Sam for the lovely flowers.\n/alpha -6\nPlease thank Sam for the lovely flowers.\n',
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/model \[unsteered\] › Dear Sam/);
    expect(r.stdout).toMatch(/alpha -6\.0\nyou › Please thank Sam/);
    expect(r.stdout).toMatch(/model \[formal alpha -6\.0 layer 1\] › .*(gonna|lol|!!)/);
    expect(r.stdout).toMatch(/formal │ alpha -6\.0 │ layer 1 │ steering on │ last answer: proj -\d\.\d\d │ 2 turns/);
  });

  it('fails before chatting on an alpha that is not a number, an unknown persona or a layer out of range', () => {
    const bad = spawnSync(process.execPath, [CLI, 'chat', '--alpha', 'lots'], { encoding: 'utf8', input: '' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--alpha must be a number; got "lots"/);
    const missing = spawnSync(process.execPath, [CLI, 'chat', '--persona', 'pirate'], { encoding: 'utf8', input: '' });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/No persona "pirate"\. Available: formal, vivid/);
    const layer = spawnSync(process.execPath, [CLI, 'chat', '--layer', '6'], { encoding: 'utf8', input: '' });
    expect(layer.status).not.toBe(0);
    expect(layer.stderr).toMatch(/Layer 6 is out of range/);
  });
});
