/**
 * The line being typed at the chat prompt: text and a cursor, with the usual editing keys. No I/O.
 *
 * @example
 * const ed = new LineEditor();
 * ed.insert('helo'); ed.left(); ed.insert('l');   // 'hello', cursor before the 'o'
 * ed.take();                                      // 'hello', and the line is empty again
 */
export class LineEditor {
  /** The text as code points, so the cursor never splits a character. */
  private chars: string[] = [];
  /** Cursor position in code points (0 … length). */
  cursor = 0;

  get text(): string {
    return this.chars.join('');
  }

  /** The text left of the cursor. */
  get beforeCursor(): string {
    return this.chars.slice(0, this.cursor).join('');
  }

  get isEmpty(): boolean {
    return this.chars.length === 0;
  }

  insert(s: string): void {
    const add = [...s.replace(/[\r\n\t]/g, ' ')].filter((c) => c >= ' ' && c !== '\x7f');
    this.chars.splice(this.cursor, 0, ...add);
    this.cursor += add.length;
  }

  /** Deletes left of the cursor (Backspace). */
  backspace(): void {
    if (this.cursor === 0) return;
    this.chars.splice(--this.cursor, 1);
  }

  /** Deletes under the cursor (Delete). */
  deleteForward(): void {
    this.chars.splice(this.cursor, 1);
  }

  left(): void {
    this.cursor = Math.max(0, this.cursor - 1);
  }

  right(): void {
    this.cursor = Math.min(this.chars.length, this.cursor + 1);
  }

  home(): void {
    this.cursor = 0;
  }

  end(): void {
    this.cursor = this.chars.length;
  }

  /** Deletes from the start of the line to the cursor (Ctrl-U). */
  killToStart(): void {
    this.chars.splice(0, this.cursor);
    this.cursor = 0;
  }

  /** Deletes from the cursor to the end of the line (Ctrl-K). */
  killToEnd(): void {
    this.chars.length = this.cursor;
  }

  /** Deletes the word left of the cursor (Ctrl-W). */
  deleteWordBack(): void {
    let i = this.cursor;
    while (i > 0 && this.chars[i - 1] === ' ') i--;
    while (i > 0 && this.chars[i - 1] !== ' ') i--;
    this.chars.splice(i, this.cursor - i);
    this.cursor = i;
  }

  /** Returns the text and empties the line. */
  take(): string {
    const t = this.text;
    this.chars = [];
    this.cursor = 0;
    return t;
  }
}
