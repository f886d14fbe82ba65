import { displayWidth } from './terminalText.js';

/**
 * Word-wraps text that arrives in pieces (streamed tokens) to a terminal width: a word is written
 * once it is complete, on the next line when it would not fit; a word longer than the width is
 * cut. Newlines in the text are kept.
 *
 * @example
 * const wrap = new StreamWrapper(20, displayWidth('model › '));
 * out.write(wrap.push('Dear Sam, I hope'));   // complete words so far
 * out.write(wrap.flush());                    // the last word
 */
export class StreamWrapper {
  private word = '';
  private spaces = '';

  /** `column`: where the cursor starts (after a label); afterwards, where the written text ends. */
  constructor(
    private readonly width: number,
    public column = 0,
  ) {}

  push(piece: string): string {
    let out = '';
    for (const ch of piece) {
      if (ch === '\n') {
        out += this.emitWord() + '\n';
        this.spaces = '';
        this.column = 0;
      } else if (ch === ' ' || ch === '\t') {
        out += this.emitWord();
        this.spaces += ' ';
      } else {
        this.word += ch;
        if (displayWidth(this.word) >= this.width) out += this.emitWord();
      }
    }
    return out;
  }

  /** The text still held back (the last word). */
  flush(): string {
    return this.emitWord();
  }

  private emitWord(): string {
    if (!this.word) return '';
    const w = displayWidth(this.word);
    let out: string;
    if (this.column > 0 && this.column + this.spaces.length + w > this.width) {
      out = '\n' + this.word;
      this.column = w;
    } else {
      out = this.spaces + this.word;
      this.column += this.spaces.length + w;
    }
    this.word = '';
    this.spaces = '';
    return out;
  }
}
