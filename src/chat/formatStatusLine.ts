import type { ChatSession } from './ChatSession.js';
import { recordsDoesNotSteer } from '../steering/steeringWarning.js';
import { displayWidth, formatAlpha, makeStyle, truncateToWidth, type Style } from './terminalText.js';

/**
 * How the status line is laid out.
 *
 * @example formatStatusLine(session, { width: process.stdout.columns - 1, style: makeStyle(true), contextSize: 512 });
 */
export interface StatusLineOptions {
  /** Columns available; the line is cut to fit. */
  width?: number;
  style?: Style;
  /** The model's context length, to show how much of it the conversation uses. */
  contextSize?: number;
}

/**
 * The chat's one-line indicator: persona, alpha, layer, steering on/off, how strongly the last answer
 * projected on the persona vector (`proj`, in gap units; with the alpha it was written at when that
 * differs from now) and how much of the context the conversation fills.
 *
 * @example
 * formatStatusLine(session, { width: 120, contextSize: 512 });
 * // 'formal │ alpha -6.0 │ layer 1 │ steering on │ last answer: proj -0.78 │ 1 turn · 83/512 tokens'
 * // a persona whose file records the does-not-steer verdict: 'cheerful │ does not measurably steer │ alpha 4.0 │ …'
 */
export function formatStatusLine(session: ChatSession, opts: StatusLineOptions = {}): string {
  const st = opts.style ?? makeStyle(false);
  const parts: [plain: string, styled: string][] = [];
  const add = (label: string, value: string, paint: (s: string) => string = st.bold) => parts.push([label + value, st.dim(label) + paint(value)]);
  if (session.persona) {
    add('', session.persona.name, st.cyan);
    // The persona file records the steering check's does-not-steer verdict: say so while steering with it.
    if (recordsDoesNotSteer(session.persona)) add('', 'does not measurably steer', st.red);
    if (session.operator !== 'add') add('', session.operator + (session.cap !== undefined ? ` ${session.cap}` : ''), st.yellow);
    if (session.usesAlpha) add('alpha ', formatAlpha(session.alpha));
    add(session.layers && session.layers.length > 1 ? 'layers ' : 'layer ', session.layers?.join(',') ?? String(session.layer));
    add('steering ', session.steering ? 'on' : 'OFF', session.steering ? st.green : st.red);
  } else {
    add('', 'no persona (/persona NAME)', st.yellow);
  }
  const last = session.last;
  if (last) {
    const changed =
      last.alpha !== session.alpha || last.steered !== session.steers || last.persona !== (session.persona?.name ?? null) || last.layer !== session.layer;
    const at = changed
      ? ` (${last.steered ? `alpha ${formatAlpha(last.alpha)}` : 'unsteered'}${last.persona !== (session.persona?.name ?? null) ? `, ${last.persona}` : ''})`
      : '';
    const proj = last.projection === null ? 'n/a' : (last.projection >= 0 ? '+' : '') + last.projection.toFixed(2);
    add(`last answer${at}: proj `, proj + (last.stopped ? ' (stopped)' : ''));
  }
  const turns = session.turns;
  add('', `${turns} turn${turns === 1 ? '' : 's'}` + (opts.contextSize ? ` · ${session.contextTokens}/${opts.contextSize} tokens` : ''), st.dim);
  const sep = ' │ ';
  const plain = parts.map((p) => p[0]).join(sep);
  const width = opts.width ?? Infinity;
  if (displayWidth(plain) <= width) return parts.map((p) => p[1]).join(st.dim(sep));
  return st.dim(truncateToWidth(plain, width));
}

/**
 * The label an answer is printed after, naming the steering it is written under.
 *
 * @example formatAnswerLabel(session); // 'model [formal alpha -6.0 layer 1] › ' or 'model [unsteered] › '
 */
export function formatAnswerLabel(session: ChatSession, style: Style = makeStyle(false)): string {
  const op = session.operator === 'add' ? '' : ` ${session.operator}${session.cap !== undefined ? ` ${session.cap}` : ''}`;
  const how = session.steers
    ? `${session.persona!.name}${op}${session.usesAlpha ? ` alpha ${formatAlpha(session.alpha)}` : ''} layer ${session.layers?.join(',') ?? session.layer}`
    : 'unsteered';
  return style.bold('model ') + style.dim(`[${how}]`) + style.bold(' › ');
}
