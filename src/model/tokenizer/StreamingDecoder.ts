/**
 * What a `StreamingDecoder` needs of a tokenizer (a `Tokenizer` is one).
 *
 * @example
 * const decoder: TokenDecoder = { decode: (ids) => ids.map((id) => String.fromCharCode(id)).join('') };
 */
export interface TokenDecoder {
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
}

const REPLACEMENT = '\uFFFD';

/**
 * Turns generated token ids into text as they arrive. It decodes a short window (the tokens since
 * the last emitted piece plus the ones before it, so SentencePiece spaces and merges decode as in
 * the full text) and emits only text that is complete: while the window ends in U+FFFD (a UTF-8
 * character split across byte-level tokens) it waits for the next token. `flush()` emits the rest.
 * The pieces concatenate to `decode(allIds)`.
 *
 * @example
 * const stream = new StreamingDecoder(tok, { skipSpecialTokens: true });
 * for (const id of ids) process.stdout.write(stream.push(id));
 * process.stdout.write(stream.flush());
 */
export class StreamingDecoder {
  private ids: number[] = [];
  /** Start of the context window: tokens before `readOffset` already emitted, kept for context. */
  private prefixOffset = 0;
  /** Tokens from here on have not been emitted yet. */
  private readOffset = 0;

  constructor(
    private readonly tokenizer: TokenDecoder,
    private readonly opts: { skipSpecialTokens?: boolean } = {},
  ) {}

  /** Adds one token; returns the newly completed text ('' while a character is still incomplete). */
  push(id: number): string {
    this.ids.push(id);
    const { prefix, full } = this.window();
    if (full.length <= prefix.length || full.endsWith(REPLACEMENT)) return '';
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    this.compact();
    return full.slice(prefix.length);
  }

  /** Returns whatever has not been emitted yet (an incomplete character as U+FFFD) and resets. */
  flush(): string {
    const { prefix, full } = this.window();
    this.ids = [];
    this.prefixOffset = 0;
    this.readOffset = 0;
    return full.length > prefix.length ? full.slice(prefix.length) : '';
  }

  private window(): { prefix: string; full: string } {
    const skip = { skipSpecialTokens: this.opts.skipSpecialTokens ?? false };
    return {
      prefix: this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset), skip),
      full: this.tokenizer.decode(this.ids.slice(this.prefixOffset), skip),
    };
  }

  /** Drops tokens that are no longer in the window, so memory stays bounded on long streams. */
  private compact(): void {
    if (this.prefixOffset < 1024) return;
    this.ids = this.ids.slice(this.prefixOffset);
    this.readOffset -= this.prefixOffset;
    this.prefixOffset = 0;
  }
}
