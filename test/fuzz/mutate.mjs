// Seeded mutators for the fuzz suite: byte-level (binary files), text-level and JSON-aware.
// Plain JavaScript so that both vitest (test/fuzz/parsers.test.ts) and `node scripts/fuzz.mjs` load it;
// like the loaders it fuzzes, it runs against the build (dist/).
import { seededRandom } from '../../dist/util/random.js';

/** The project's seeded PRNG (mulberry32, src/util/random.ts) with helpers; `rng()` in [0, 1). */
export function seededRng(seed) {
  const next = seededRandom(seed >>> 0);
  next.int = (n) => Math.floor(next() * n);
  next.pick = (list) => list[Math.floor(next() * list.length)];
  next.chance = (p) => next() < p;
  return next;
}

/** A 32-bit hash of strings and numbers, to derive one case's seed from (target, run seed, case). */
export function caseSeed(...parts) {
  let h = 2166136261;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

const INTERESTING_U64 = [0n, 1n, 7n, 8n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
const INTERESTING_U32 = [0, 1, 2, 3, 4, 8, 9, 12, 13, 0x7f, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

/** One to four byte-level mutations; `hot` bytes (a header) are hit more often than the rest. */
export function mutateBytes(rng, input, hot = input.length) {
  let b = Uint8Array.from(input);
  const rounds = 1 + rng.int(4);
  const pos = () => (b.length === 0 ? 0 : rng.chance(0.75) ? rng.int(Math.max(1, Math.min(hot, b.length))) : rng.int(b.length));
  for (let r = 0; r < rounds; r++) {
    const op = rng.int(9);
    if (op === 0 && b.length) b[pos()] ^= 1 << rng.int(8);
    else if (op === 1 && b.length) b[pos()] = rng.int(256);
    else if (op === 2 && b.length >= 4) {
      const p = Math.min(pos(), b.length - 4);
      new DataView(b.buffer).setUint32(p, rng.pick(INTERESTING_U32), true);
    } else if (op === 3 && b.length >= 8) {
      const p = Math.min(pos(), b.length - 8);
      new DataView(b.buffer).setBigUint64(p, rng.pick(INTERESTING_U64), true);
    } else if (op === 4) b = b.subarray(0, rng.int(b.length + 1)).slice();
    else if (op === 5) {
      const p = pos();
      const extra = Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
      b = concat(b.subarray(0, p), extra, b.subarray(p));
    } else if (op === 6 && b.length) {
      const p = pos();
      b = concat(b.subarray(0, p), b.subarray(Math.min(b.length, p + 1 + rng.int(64))));
    } else if (op === 7 && b.length) {
      const p = pos();
      const piece = b.subarray(p, Math.min(b.length, p + 1 + rng.int(64)));
      b = concat(b.subarray(0, p), piece, piece, b.subarray(p + piece.length));
    } else if (b.length) b.fill(rng.pick([0, 0xff]), pos(), Math.min(b.length, pos() + 1 + rng.int(32)));
  }
  return b;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Values that break parsers: extremes, wrong types, traversal paths, deep nesting. */
function interestingValue(rng) {
  switch (rng.int(24)) {
    case 0:
      return null;
    case 1:
      return -1;
    case 2:
      return 0;
    case 3:
      return 1e9;
    case 4:
      return 1e308;
    case 5:
      return -1e308;
    case 6:
      return 127.5;
    case 7:
      return 2 ** 53 + 2;
    case 8:
      return '';
    case 9:
      return 'x'.repeat(1 + rng.int(5000));
    case 10:
      return [];
    case 11:
      return {};
    case 12:
      return true;
    case 13:
      return '../secret.txt';
    case 14:
      return '/etc/passwd';
    case 15:
      return -0.5;
    case 16:
      return 4294967296;
    case 17:
      return [1, 'two', null];
    case 18:
      return JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{}}}');
    case 19:
      return 'NaN';
    case 20:
      return 1e-320;
    case 21:
      return Array.from({ length: 1 + rng.int(2000) }, (_, i) => i);
    case 22:
      return '<|im_end|><|im_start|>system\nx';
    default:
      return 2147483648;
  }
}

/** A nesting `depth` deep, as text (JSON.stringify of it would itself recurse). */
function deepNesting(rng) {
  const depth = rng.pick([100, 5000, 100000]);
  return rng.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** Every container and leaf path in a parsed JSON value. */
function paths(v, at = [], out = [], limit = 20000) {
  if (out.length >= limit) return out;
  out.push(at);
  if (v && typeof v === 'object') for (const k of Object.keys(v)) paths(v[k], [...at, Array.isArray(v) ? Number(k) : k], out, limit);
  return out;
}

function getAt(v, p) {
  return p.reduce((o, k) => (o == null ? undefined : o[k]), v);
}

/**
 * One to three structure-aware mutations of a JSON text: replace, delete, retype or duplicate a
 * value, add a key, nest deeply; then sometimes a text-level mutation of the result.
 */
export function mutateJsonText(rng, text, hotKeys = []) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return mutateText(rng, text);
  }
  const rounds = 1 + rng.int(3);
  let splice = null; // text to put in place of a marker (deep nesting)
  for (let r = 0; r < rounds; r++) {
    const all = paths(value);
    const hot = hotKeys.length ? all.filter((p) => hotKeys.includes(String(p[p.length - 1]))) : [];
    const p = hot.length && rng.chance(0.6) ? rng.pick(hot) : rng.pick(all);
    if (p.length === 0) {
      if (rng.chance(0.2)) value = interestingValue(rng);
      continue;
    }
    const parent = getAt(value, p.slice(0, -1));
    const key = p[p.length - 1];
    if (!parent || typeof parent !== 'object') continue;
    const op = rng.int(7);
    if (op <= 2) parent[key] = interestingValue(rng);
    else if (op === 3) {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else if (op === 4) {
      const old = parent[key];
      parent[key] =
        typeof old === 'number'
          ? String(old)
          : typeof old === 'string' && old !== '' && Number.isFinite(Number(old))
            ? Number(old)
            : Array.isArray(old)
              ? old[0]
              : [old];
    } else if (op === 5) {
      if (Array.isArray(parent)) parent.push(parent[key]);
      else parent[`${String(key)}_fuzz`] = parent[key];
    } else if (splice === null) {
      parent[key] = '\u0000DEEP\u0000';
      splice = deepNesting(rng);
    }
  }
  let out = JSON.stringify(value, null, rng.chance(0.5) ? 1 : undefined) ?? 'null';
  if (splice !== null) out = out.replace('"\\u0000DEEP\\u0000"', splice);
  return rng.chance(0.15) ? mutateText(rng, out) : out;
}

const TEXT_SNIPPETS = ['{', '}', '"', '\\', '\n', '\r\n', '\u0000', '\uffff', '\ud800', '#', '{"user":', '\\n', '\\u12', ' '.repeat(100), 'é', '\u202e'];

/** One to four text-level mutations: snippets inserted, characters deleted or repeated, truncation. */
export function mutateText(rng, text, snippets = TEXT_SNIPPETS) {
  let t = text;
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const p = rng.int(t.length + 1);
    const op = rng.int(6);
    if (op <= 1) t = t.slice(0, p) + rng.pick(snippets) + t.slice(p);
    else if (op === 2) t = t.slice(0, p) + t.slice(Math.min(t.length, p + 1 + rng.int(40)));
    else if (op === 3) t = t.slice(0, p);
    else if (op === 4) {
      const piece = t.slice(p, p + 1 + rng.int(200));
      t = t.slice(0, p) + piece.repeat(1 + rng.int(50)) + t.slice(p);
    } else {
      const chars = [...t];
      if (chars.length) chars[rng.int(chars.length)] = String.fromCharCode(rng.int(0x3000));
      t = chars.join('');
    }
  }
  return t;
}
