// A/B of two builds of this project on one model, for before/after checks: prefill of one ~N-token
// prompt and per-token decode through the library's own generate (median of REPS). Run it interleaved:
//   for r in 1 2 3; do for t in OLD_CHECKOUT .; do node scripts/prefill-decode-ab.mjs $t MODEL_DIR q4 3 22; done; done
// Arguments: TREE (a checkout with dist/ built) MODEL_DIR PRECISION REPS REPEAT (prompt length in repeats of a 10-word line).
import { pathToFileURL } from 'node:url';
const [tree, dir, precision = 'q4', reps = '3', repeat = '22'] = process.argv.slice(2);
const { loadModel } = await import(pathToFileURL(`${tree}/dist/index.js`).href);
const m = await loadModel(dir, { precision, threads: 2 });
const words = 'the quick brown fox jumps over a lazy dog and then ';
const prompt = [{ role: 'user', content: words.repeat(Number(repeat)) }];
const time = async (n) => {
  const t = performance.now();
  const [r] = await m.generate([prompt], { maxNewTokens: n, temperature: 0, stop: [] });
  return [(performance.now() - t) / 1000, r];
};
await time(2);
const pre = [],
  dec = [];
for (let i = 0; i < Number(reps); i++) {
  const [a] = await time(1);
  const [b, r2] = await time(33);
  pre.push(a);
  dec.push((b - a) / (r2.tokens.length - 1));
}
const med = (x) => x.sort((p, q) => p - q)[Math.floor(x.length / 2)];
console.log(JSON.stringify({ tree, precision, prefill_s: med(pre), decode_ms: med(dec) * 1000, promptChars: prompt[0].content.length }));
await m.dispose?.();
