/**
 * Progress reporting for long work (downloads, conversion, extraction, evaluation).
 * Library code takes an optional `onProgress` callback; the CLI turns it into a bar on stderr.
 */
export interface ProgressEvent {
  /** What is being done, e.g. "download model.safetensors", "answers", "activations". */
  phase: string;
  done: number;
  total: number;
  /** Unit of done/total: "bytes", "tokens", "prompts", ... */
  unit?: string;
}

export type ProgressCallback = (event: ProgressEvent) => void;

function formatAmount(n: number, unit?: string): string {
  if (unit === 'bytes') {
    if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
    if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
    if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
    return `${n} B`;
  }
  return `${n}${unit ? ` ${unit}` : ''}`;
}

/**
 * A progress callback that draws a bar on a TTY stream (or prints a line per 10% elsewhere).
 *
 * @example const onProgress = progressBar(process.stderr); await download(id, { onProgress });
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressCallback {
  let lastPhase = '';
  let lastDecile = -1;
  let lastDraw = 0;
  const start = Date.now();
  return (e) => {
    const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 0;
    if (!stream.isTTY) {
      const decile = Math.floor(frac * 10);
      if (e.phase !== lastPhase) lastDecile = -1;
      if (decile !== lastDecile) {
        stream.write(`${e.phase}: ${Math.round(frac * 100)}% (${formatAmount(e.done, e.unit)} / ${formatAmount(e.total, e.unit)})\n`);
        lastDecile = decile;
      }
      lastPhase = e.phase;
      return;
    }
    const now = Date.now();
    if (e.phase === lastPhase && now - lastDraw < 100 && e.done < e.total) return;
    lastDraw = now;
    const width = 28;
    const filled = Math.round(frac * width);
    const secs = (now - start) / 1000;
    const line = `${e.phase} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(frac * 100)}% ${formatAmount(e.done, e.unit)}/${formatAmount(e.total, e.unit)} ${secs.toFixed(0)}s`;
    stream.write(`\r${line.slice(0, (stream.columns ?? 100) - 1)}\x1b[K`);
    if (e.done >= e.total) stream.write('\n');
    lastPhase = e.phase;
  };
}

/**
 * Counts generated tokens for a progress phase and reports every `every` tokens: `onToken` goes to a
 * generation call (undefined without a callback, so nothing is counted), `reach(n)` moves the count
 * up to n (rows that end early leave their budget unspent: count it as done after their batch).
 *
 * @example const progress = tokenProgress(o.onProgress, 'answers', rows.length * maxNewTokens, 64); await model.generate(rows, { onToken: progress.onToken });
 */
export function tokenProgress(
  onProgress: ProgressCallback | undefined,
  phase: string,
  total: number,
  every: number,
): { onToken?: () => void; reach(n: number): void; readonly done: number } {
  let tokens = 0;
  let last = 0;
  return {
    onToken: onProgress
      ? () => {
          tokens++;
          if (tokens - last >= every) {
            last = tokens;
            onProgress({ phase, done: tokens, total, unit: 'tokens' });
          }
        }
      : undefined,
    reach(n: number) {
      tokens = Math.max(tokens, n);
    },
    get done() {
      return tokens;
    },
  };
}
