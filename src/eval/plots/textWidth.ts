/**
 * Text measuring for the SVG plots, without a browser: advance widths of DejaVu Sans (the first font of
 * the plots' font stack and one of the widest common sans-serif fonts, so text laid out with these
 * widths also fits in Liberation Sans, Arial or Helvetica).
 */

// Advance widths of ASCII 32–126 in thousandths of an em, DejaVu Sans Book and Bold.
const REGULAR = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838,
  531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390,
  838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337,
  636, 838,
];
const BOLD = [
  348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838,
  580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457,
  838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365,
  712, 838,
];
// Common non-ASCII characters of the reports (regular, bold); anything else counts as a full em.
const OTHER: Record<string, [number, number]> = {
  α: [659, 687],
  '−': [838, 838],
  Δ: [684, 774],
  '‖': [500, 500],
  '–': [500, 500],
  '—': [1000, 1000],
  '·': [318, 380],
  '∓': [838, 838],
  '±': [838, 838],
  '…': [1000, 1000],
  '≥': [838, 838],
  '≤': [838, 838],
  '“': [518, 657],
  '”': [518, 657],
  '’': [318, 380],
  '×': [838, 838],
};

/**
 * Rendered width of `text` in px at `size` px, from DejaVu Sans' advance widths (bold when asked);
 * characters outside its table count as one em, so an estimate errs wide.
 *
 * @example textWidth('formality', 12); // 54.02
 */
export function textWidth(text: string, size: number, bold = false): number {
  const table = bold ? BOLD : REGULAR;
  let em = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    em += code >= 32 && code < 127 ? table[code - 32] : (OTHER[ch]?.[bold ? 1 : 0] ?? 1000);
  }
  return (em / 1000) * size;
}

/**
 * Breaks `text` into lines no wider than `maxWidth` px at `size` px: at spaces first, and inside a
 * word only when the word alone is wider than a line.
 *
 * @example wrapText('end-of-turn rate under the floor 0.7', 12, 120); // ['end-of-turn rate', 'under the floor 0.7']
 */
export function wrapText(text: string, size: number, maxWidth: number, bold = false): string[] {
  const lines: string[] = [];
  let line = '';
  const fits = (s: string) => textWidth(s, size, bold) <= maxWidth;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const joined = line ? `${line} ${word}` : word;
    if (fits(joined)) {
      line = joined;
      continue;
    }
    if (line) lines.push(line);
    line = '';
    let rest = word;
    while (!fits(rest)) {
      let n = 1;
      while (n < rest.length && fits(rest.slice(0, n + 1))) n++;
      lines.push(rest.slice(0, n));
      rest = rest.slice(n);
    }
    line = rest;
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}
