/**
 * Cuts streamed text at the first stop string. Text that could be the start of a stop string is held
 * back until the next piece shows it is not, so the stop string never reaches the client and the
 * emitted pieces always concatenate to the final (cut) text.
 *
 * @example
 * const m = new StopMatcher(['\n\n']);
 * m.push('Hello\n'); // 'Hello'   ('\n' held back)
 * m.push('\nBye');   // ''        (stopped)
 * m.stopped;         // true
 */
export class StopMatcher {
  private pending = '';
  stopped = false;

  constructor(private readonly stops: readonly string[]) {}

  /** Adds a piece of text; returns the part that is safe to emit now. */
  push(text: string): string {
    if (this.stopped) return '';
    this.pending += text;
    if (this.stops.length === 0) return this.take(this.pending.length);
    let cut = -1;
    for (const s of this.stops) {
      const i = this.pending.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      const out = this.pending.slice(0, cut);
      this.pending = '';
      return out;
    }
    let hold = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, this.pending.length); k > hold; k--) {
        if (this.pending.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return this.take(this.pending.length - hold);
  }

  /** The held-back rest (the generation ended without a stop string). */
  flush(): string {
    return this.stopped ? '' : this.take(this.pending.length);
  }

  private take(n: number): string {
    const out = this.pending.slice(0, n);
    this.pending = this.pending.slice(n);
    return out;
  }
}
