/**
 * ANSI styling that turns into plain text when color is off.
 *
 * @example const st: Style = makeStyle(true); st.green('on');
 */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

/**
 * Styling functions; with `color` false every one returns its text unchanged.
 *
 * @example
 * const st = makeStyle(process.stdout.hasColors?.() ?? false);
 * process.stdout.write(st.green('on') + '\n');
 */
export function makeStyle(color: boolean): Style {
  if (!color) {
    const id = (s: string) => s;
    return { bold: id, dim: id, red: id, green: id, yellow: id, cyan: id };
  }
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };
}

// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Columns one code point takes: 0 for combining marks and controls, 2 for wide (CJK, emoji), else 1. */
function charWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return 1;
}

/**
 * Columns a string takes in a terminal (ANSI styling ignored).
 *
 * @example displayWidth('\x1b[1mhi\x1b[22m 你好'); // 7
 */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s.replace(ANSI, '')) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/**
 * Cuts a plain string to at most `width` columns, ending in `…` when cut.
 *
 * @example truncateToWidth('formal │ alpha +1.0', 10); // 'formal │ …'
 */
export function truncateToWidth(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return out + '…';
}

/**
 * A signed alpha for display: `+1.0`, `-6.0`, `0.0`, `+1.25`.
 *
 * @example formatAlpha(-6); // '-6.0'
 */
export function formatAlpha(alpha: number): string {
  const body = Number.isInteger(alpha * 10) ? Math.abs(alpha).toFixed(1) : String(Math.abs(alpha));
  return alpha > 0 ? `+${body}` : alpha < 0 ? `-${body}` : body;
}
