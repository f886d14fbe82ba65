/**
 * A short, safe rendering of a JSON value for error messages: scalars as JSON (cut at `max`
 * characters), containers by kind and size. Unlike `JSON.stringify`, a value nested 100,000 deep
 * cannot overflow the stack and a 50 MB string cannot end up in a message.
 *
 * @example describeValue(127.5); // '127.5'
 * @example describeValue([[[1]]]); // 'an array of 1 item'
 */
export function describeValue(v: unknown, max = 80): string {
  if (Array.isArray(v)) {
    if (v.length <= 8 && v.every((x) => x === null || typeof x !== 'object')) return cut(JSON.stringify(v), max);
    return `an array of ${v.length} item${v.length === 1 ? '' : 's'}`;
  }
  if (v !== null && typeof v === 'object') return 'an object';
  if (v === undefined) return 'undefined';
  return cut(JSON.stringify(v) ?? String(v), max);
}

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
