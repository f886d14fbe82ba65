import type { RowResult } from '../engine/worker/EngineWorker.js';
import { ReasoningSplitter } from '../model/tokenizer/splitReasoning.js';
import { StopMatcher } from './StopMatcher.js';

/** One token's entry in OpenAI's `logprobs.content`. */
interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

const bytesOf = (s: string) => Array.from(Buffer.from(s, 'utf8'));

/** How one choice ended, ready to send. */
export interface ChoiceEnd {
  /** Text still to send (held back, or completed by the final result). */
  rest: Piece;
  finishReason: 'stop' | 'length';
  /** Answer token ids (without the end-of-turn token; cut at a stop string). */
  tokenIds: number[];
  logprobs: { content: TokenLogprob[]; refusal: null } | null;
}

/** Text to send, as answer and thinking. */
export interface Piece {
  content: string;
  reasoning: string;
}

/** Per-choice bookkeeping: stop strings, what was streamed, the tokens seen, how it ended. */
export class CompletionChoice {
  readonly matcher: StopMatcher;
  /** Raw text the engine streamed for this row (before stop-string cutting). */
  raw = '';
  /** Answer text sent to the client (without the thinking). */
  text = '';
  /** Thinking sent to the client (`reasoning_content`), when the request turned thinking on. */
  reasoning = '';
  private readonly splitter: ReasoningSplitter | null;
  tokens: number[] = [];
  /** Set once the row's last token has been seen (end of turn, length, or a stop string). */
  ended: 'eos' | 'length' | 'stop' | null = null;

  constructor(stops: string[], thinking: boolean) {
    this.matcher = new StopMatcher(stops);
    this.splitter = thinking ? new ReasoningSplitter() : null;
  }

  /** Text after the stop matcher, split into thinking and answer (all answer when thinking is off). */
  private split(out: string, last: boolean): Piece {
    if (!this.splitter) {
      this.text += out;
      return { content: out, reasoning: '' };
    }
    const a = this.splitter.push(out);
    const b = last ? this.splitter.flush() : { reasoning: '', content: '' };
    const p = { content: a.content + b.content, reasoning: a.reasoning + b.reasoning };
    this.text += p.content;
    this.reasoning += p.reasoning;
    return p;
  }

  /** Whether the answer had thinking (then `reasoning_content` is sent, even empty). */
  get thought(): boolean {
    return this.splitter?.sawReasoning === true;
  }

  /** A streamed token: returns the text to send now. */
  token(piece: string, id: number, stopIds: Set<number>, maxNewTokens: number): Piece {
    if (this.ended) return { content: '', reasoning: '' };
    this.tokens.push(id);
    this.raw += piece;
    const out = this.matcher.push(piece);
    if (this.matcher.stopped) this.ended = 'stop';
    else if (stopIds.has(id)) this.ended = 'eos';
    else if (this.tokens.length >= maxNewTokens) this.ended = 'length';
    return this.split(out, false);
  }

  /** Everything after the last streamed piece: `fullText` is the decoded answer (the stream may hold back an incomplete character). */
  private tail(fullText: string): Piece {
    let rest = '';
    if (!this.matcher.stopped && fullText.startsWith(this.raw) && fullText.length > this.raw.length) {
      const extra = fullText.slice(this.raw.length);
      this.raw += extra;
      rest += this.matcher.push(extra);
    }
    rest += this.matcher.flush();
    return this.split(rest, true);
  }

  /** The end as seen in the token stream (no log-probabilities asked for). */
  endFromStream(decode: (ids: number[]) => string): ChoiceEnd {
    const rest = this.tail(decode(this.tokens));
    const tokenIds = this.ended === 'eos' ? this.tokens.slice(0, -1) : this.tokens;
    return { rest, finishReason: this.ended === 'length' ? 'length' : 'stop', tokenIds, logprobs: null };
  }

  /** The end from the engine's finished row (with log-probabilities and token strings). */
  endFromResult(r: RowResult, topLogprobs: number | null): ChoiceEnd {
    const rest = this.tail(r.text);
    let kept = r.tokens.length;
    if (this.matcher.stopped) {
      // Tokens up to the one that completed the text before the stop string.
      let acc = 0;
      kept = 0;
      while (kept < r.tokens.length && acc < this.text.length) acc += r.tokenTexts[kept++].length;
    } else if (r.ended && kept > 0) {
      kept -= 1; // the end-of-turn token is not part of the answer
    }
    const finishReason = this.matcher.stopped || r.finishReason !== 'length' ? 'stop' : 'length';
    return { rest, finishReason, tokenIds: r.tokens.slice(0, kept), logprobs: topLogprobs === null ? null : logprobsOf(r, kept, topLogprobs) };
  }
}

function logprobsOf(r: RowResult, kept: number, top: number): { content: TokenLogprob[]; refusal: null } | null {
  if (!r.logprobs) return null;
  const content: TokenLogprob[] = [];
  for (let i = 0; i < kept && i < r.logprobs.length; i++) {
    const token = r.tokenTexts[i];
    content.push({
      token,
      logprob: r.logprobs[i],
      bytes: bytesOf(token),
      top_logprobs: (r.topLogprobs?.[i] ?? []).slice(0, top).map((t) => ({ token: t.token, logprob: t.logprob, bytes: bytesOf(t.token) })),
    });
  }
  return { content, refusal: null };
}
