/**
 * Layers written as a list: single layers and ranges, comma-separated (`"2-5"`, `"2,3,5"`,
 * `"1,3-4"`, `"-1"` for the last), deduplicated and sorted; null when the text is not such a list.
 * Layers are checked against a model later (`normalizeLayer`).
 *
 * @example parseLayerList('2-4,7'); // [2, 3, 4, 7]
 */
export function parseLayerList(value: string): number[] | null {
  const out = new Set<number>();
  for (const part of value.split(',')) {
    const m = /^\s*(-?\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) return null;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 1024) return null;
    for (let l = a; l <= b; l++) out.add(l);
  }
  return [...out].sort((x, y) => x - y);
}
