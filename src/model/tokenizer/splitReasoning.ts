/**
 * A model's answer split in two: the thinking between `<think>` and `</think>` (Qwen3, DeepSeek-R1),
 * and the answer itself.
 *
 * @example const { reasoning, content } = splitReasoning('<think>\nGreet.\n</think>\n\nHello!'); // 'Greet.', 'Hello!'
 */
export interface ReasoningSplit {
  /** The thinking, without its tags and the newlines around it; null when the text has none. */
  reasoning: string | null;
  content: string;
}

/**
 * Options of `splitReasoning` and `ReasoningSplitter`.
 *
 * @example new ReasoningSplitter({ startInside: true }); // the prompt already opened <think>
 */
export interface ReasoningOptions {
  /** Tag that opens the thinking (default `<think>`). */
  open?: string;
  /** Tag that closes it (default `</think>`). */
  close?: string;
  /** The text starts inside the thinking (the prompt ended with the open tag, as DeepSeek-R1's does). */
  startInside?: boolean;
}

type State = 'start' | 'afterOpen' | 'reasoning' | 'afterClose' | 'content';

/**
 * Splits streamed text into reasoning and content as it arrives, holding back only what could still
 * be the start of a tag (or the newlines around one). An answer that does not begin with the open
 * tag is all content.
 *
 * @example
 * const s = new ReasoningSplitter();
 * s.push('<thi'); s.push('nk>Plan.</think>\n\nHi'); // { reasoning: 'Plan.', content: 'Hi' }
 * s.flush();                                        // { reasoning: '', content: '' }
 */
export class ReasoningSplitter {
  private state: State;
  private held = '';
  private readonly open: string;
  private readonly close: string;
  /** Whether any reasoning was seen (then `reasoning` is a string, even empty). */
  sawReasoning = false;

  constructor(opts: ReasoningOptions = {}) {
    this.open = opts.open ?? '<think>';
    this.close = opts.close ?? '</think>';
    this.state = opts.startInside ? 'reasoning' : 'start';
    if (opts.startInside) this.sawReasoning = true;
  }

  /** The reasoning and content this piece completes (either may be empty). */
  push(piece: string): { reasoning: string; content: string } {
    let text = this.held + piece;
    this.held = '';
    let reasoning = '';
    let content = '';
    while (text) {
      if (this.state === 'start') {
        const lead = text.length - text.trimStart().length;
        const rest = text.slice(lead);
        if (rest.startsWith(this.open)) {
          this.state = 'afterOpen';
          this.sawReasoning = true;
          text = rest.slice(this.open.length);
          continue;
        }
        if (this.open.startsWith(rest)) {
          this.held = text; // whitespace, or a prefix of the tag: wait for more
          break;
        }
        this.state = 'content';
        continue;
      }
      if (this.state === 'reasoning') {
        const at = text.indexOf(this.close);
        if (at >= 0) {
          reasoning += text.slice(0, at).replace(/\n+$/, '');
          this.state = 'afterClose';
          text = text.slice(at + this.close.length);
          continue;
        }
        // Keep back a possible start of the close tag, and trailing newlines (dropped before it).
        const body = text.slice(0, text.length - partialSuffix(text, this.close));
        const keep = text.length - body.replace(/\n+$/, '').length;
        reasoning += text.slice(0, text.length - keep);
        this.held = text.slice(text.length - keep);
        break;
      }
      if (this.state === 'afterOpen' || this.state === 'afterClose') {
        const trimmed = text.replace(/^\n+/, '');
        if (!trimmed) break;
        this.state = this.state === 'afterOpen' ? 'reasoning' : 'content';
        text = trimmed;
        continue;
      }
      content += text;
      break;
    }
    return { reasoning, content };
  }

  /** What was held back, at the end of the text. */
  flush(): { reasoning: string; content: string } {
    const held = this.held;
    this.held = '';
    if (this.state === 'reasoning') return { reasoning: held.replace(/\n+$/, ''), content: '' };
    if (this.state === 'start') return { reasoning: '', content: held };
    return { reasoning: '', content: '' };
  }
}

/** Length of the longest end of `text` that is a proper start of `tag`. */
function partialSuffix(text: string, tag: string): number {
  for (let n = Math.min(text.length, tag.length - 1); n > 0; n--) if (tag.startsWith(text.slice(text.length - n))) return n;
  return 0;
}

/**
 * Splits a whole answer into reasoning and content (see `ReasoningSplitter` for streams).
 *
 * @example splitReasoning('<think>\nPlan.\n</think>\n\nDear Sam,'); // { reasoning: 'Plan.', content: 'Dear Sam,' }
 * @example splitReasoning('Dear Sam,'); // { reasoning: null, content: 'Dear Sam,' }
 */
export function splitReasoning(text: string, opts: ReasoningOptions = {}): ReasoningSplit {
  const s = new ReasoningSplitter(opts);
  const a = s.push(text);
  const b = s.flush();
  return { reasoning: s.sawReasoning ? a.reasoning + b.reasoning : null, content: a.content + b.content };
}

/**
 * A generated answer split at its tokens: the answer text without the thinking, the thinking (null
 * when there was none), and the index in `tokens` where the answer starts — after `</think>` and the
 * newline tokens that follow it; `tokens.length` when the thinking never closed. Readers of the
 * answer alone (persona extraction, scoring) treat `tokens.slice(0, contentStart)` as context.
 *
 * @example const { text, reasoning, contentStart } = splitAnswerTokens(model.tokenizer, row.tokens, row.text);
 */
export function splitAnswerTokens(
  tok: { tokenToId(token: string): number | undefined; decode(ids: readonly number[]): string },
  tokens: readonly number[],
  text: string,
  opts: ReasoningOptions = {},
): { text: string; reasoning: string | null; contentStart: number } {
  const { reasoning, content } = splitReasoning(text, opts);
  if (reasoning === null) return { text, reasoning: null, contentStart: 0 };
  const close = tok.tokenToId(opts.close ?? '</think>');
  let at = close === undefined ? -1 : tokens.indexOf(close);
  if (at < 0) return { text: content, reasoning, contentStart: tokens.length };
  at++;
  while (at < tokens.length && /^\n+$/.test(tok.decode([tokens[at]]))) at++;
  return { text: content, reasoning, contentStart: at };
}
