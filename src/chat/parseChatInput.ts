import { parseLayerList } from '../steering/parseLayerList.js';
import { OPERATORS, type Operator } from '../steering/resolveSteering.js';
/**
 * What one line typed into the chat asks for.
 *
 * @example const input: ChatInput = parseChatInput('/persona vivid');   // { type: 'persona', ref: 'vivid' }
 */
export type ChatInput =
  | { type: 'message'; text: string }
  | { type: 'alpha'; value: number }
  | { type: 'steer'; on: boolean | 'toggle' }
  | { type: 'persona'; ref: string | null }
  | { type: 'layer'; layers: number[] | null }
  | { type: 'operator'; operator: Operator; cap?: number }
  | { type: 'history' }
  | { type: 'reset' }
  | { type: 'help' }
  | { type: 'quit' }
  | { type: 'empty' }
  | { type: 'invalid'; message: string };

/**
 * The chat's commands and keys, as `/help` prints them.
 *
 * @example console.log(CHAT_HELP);
 */
export const CHAT_HELP = [
  'type a message and press Enter to send it; the conversation keeps its history',
  '↑ / ↓            alpha up / down by one step (between answers)',
  'Ctrl-T           steering on / off',
  'Ctrl-C           stop the answer being written (at the prompt: clear the line; twice: quit)',
  'Ctrl-D           quit (on an empty line)',
  '/alpha 1.5       set alpha (negative pushes away from the persona)',
  '/steer on|off    steering on or off (/steer alone toggles)',
  '/persona NAME    switch to a shipped persona, or give a persona file path (/persona alone lists them)',
  "/layer 3         steer at decoder layer 3; /layer 2-4 or 2,5 several (/layer alone: the persona's recommended layer)",
  '/operator add    add alpha·v; ablate (remove the direction), cap 1.5 (limit its projection), ablate-add (remove, then add alpha·v)',
  '/history         show the conversation kept so far',
  '/reset           forget the conversation (settings stay)',
  '/help            this list',
  '/quit            leave (also /exit)',
].join('\n');

/** A plain decimal number (no hex, no empty string, no Infinity). */
function parseNumber(s: string): number | null {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/**
 * Parses one line of chat input: a message, or a `/command` with its argument. Never throws: a
 * malformed command comes back as `invalid` with a message to show. `//text` sends `/text` as a message.
 *
 * @example
 * parseChatInput('/alpha -2.5');   // { type: 'alpha', value: -2.5 }
 * parseChatInput('/steer off');    // { type: 'steer', on: false }
 * parseChatInput('Hi there');      // { type: 'message', text: 'Hi there' }
 */
export function parseChatInput(line: string): ChatInput {
  const text = line.trim();
  if (text === '') return { type: 'empty' };
  if (text.startsWith('//')) return { type: 'message', text: text.slice(1) };
  if (!text.startsWith('/')) return { type: 'message', text };
  const [rawName, ...rest] = text.slice(1).split(/\s+/);
  const name = rawName.toLowerCase();
  const arg = rest.join(' ');
  switch (name) {
    case 'alpha':
    case 'a': {
      if (!arg) return { type: 'invalid', message: 'Give a number: /alpha 1.5 (or use ↑ / ↓).' };
      const value = parseNumber(arg);
      return value === null ? { type: 'invalid', message: `alpha must be a number; got "${arg}".` } : { type: 'alpha', value };
    }
    case 'steer':
    case 'steering': {
      const a = arg.toLowerCase();
      if (a === '') return { type: 'steer', on: 'toggle' };
      if (a === 'on' || a === '1' || a === 'true') return { type: 'steer', on: true };
      if (a === 'off' || a === '0' || a === 'false') return { type: 'steer', on: false };
      return { type: 'invalid', message: `/steer takes on or off; got "${arg}".` };
    }
    case 'persona':
    case 'p':
      return { type: 'persona', ref: arg || null };
    case 'layer':
    case 'l': {
      if (!arg) return { type: 'layer', layers: null };
      const layers = parseLayerList(arg);
      return layers === null ? { type: 'invalid', message: `layer must be an integer or a list such as 2-4 or 2,5; got "${arg}".` } : { type: 'layer', layers };
    }
    case 'operator':
    case 'op': {
      const [op, capText, ...rest] = arg.split(/\s+/).filter(Boolean);
      if (!op || !(OPERATORS as readonly string[]).includes(op) || rest.length)
        return { type: 'invalid', message: `/operator takes ${OPERATORS.join(', ')} (cap with a number: /operator cap 1.5); got "${arg}".` };
      if (op !== 'cap')
        return capText === undefined ? { type: 'operator', operator: op as Operator } : { type: 'invalid', message: `/operator ${op} takes no number.` };
      const cap = capText === undefined ? null : parseNumber(capText);
      return cap === null
        ? { type: 'invalid', message: 'Give the cap: /operator cap 1.5 (the largest projection allowed on the unit vector).' }
        : { type: 'operator', operator: 'cap', cap };
    }
    case 'history':
      return { type: 'history' };
    case 'reset':
    case 'clear':
      return { type: 'reset' };
    case 'help':
    case '?':
      return { type: 'help' };
    case 'quit':
    case 'exit':
    case 'q':
      return { type: 'quit' };
    default:
      return { type: 'invalid', message: `Unknown command /${rawName}. /help lists the commands; start with // to send a message that begins with /.` };
  }
}
