#!/usr/bin/env node
// Nightly-size fuzzing of every file parser: `node scripts/fuzz.mjs --cases N [--seed S]
// [--targets a,b] [--timeout-ms T] [--out DIR]`. Needs dist/ (npm run build). Prints one line per
// target and writes every failing input under --out (default fuzz-failures/); exits 1 on any
// crash, hang or unclean error. The bounded CI run is test/fuzz/parsers.test.ts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGET_NAMES, fuzzTarget } from '../test/fuzz/fuzzRunner.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opts = { cases: 1000, seed: Math.floor(Date.now() / 86_400_000), targets: TARGET_NAMES, timeoutMs: 10_000, out: path.join(root, 'fuzz-failures') };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => {
    const v = args[++i];
    if (v === undefined) fail(`${a} needs a value.`);
    return v;
  };
  const int = (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) fail(`${a} must be a positive whole number; got "${v}".`);
    return n;
  };
  if (a === '--') continue;
  else if (a === '--cases') opts.cases = int(value());
  else if (a === '--seed') opts.seed = int(value());
  else if (a === '--timeout-ms') opts.timeoutMs = int(value());
  else if (a === '--out') opts.out = path.resolve(value());
  else if (a === '--targets') {
    opts.targets = value()
      .split(',')
      .map((t) => t.trim());
    for (const t of opts.targets) if (!TARGET_NAMES.includes(t)) fail(`Unknown target "${t}"; targets: ${TARGET_NAMES.join(', ')}.`);
  } else if (a === '--help' || a === '-h') {
    process.stdout.write(`usage: node scripts/fuzz.mjs [--cases N] [--seed S] [--targets ${TARGET_NAMES.join(',')}] [--timeout-ms T] [--out DIR]\n`);
    process.exit(0);
  } else fail(`Unknown option ${a}; see --help.`);
}

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

if (!existsSync(path.join(root, 'dist', 'errors.js'))) fail('dist/ is missing: run npm run build first.');

process.stdout.write(`fuzzing ${opts.targets.join(', ')}: ${opts.cases} cases each, seed ${opts.seed}, ${opts.timeoutMs} ms per case\n`);
let bad = 0;
for (const target of opts.targets) {
  const started = Date.now();
  const s = await fuzzTarget({ root, target, cases: opts.cases, seed: opts.seed, timeoutMs: opts.timeoutMs, failDir: opts.out });
  const kinds = {};
  for (const f of s.failures) kinds[f.kind] = (kinds[f.kind] ?? 0) + 1;
  bad += s.failures.length;
  process.stdout.write(
    `${target.padEnd(12)} ${String(s.ok).padStart(6)} loaded ${String(s.refused).padStart(6)} refused  ${s.failures.length} failures${s.failures.length ? ` ${JSON.stringify(kinds)}` : ''}  slowest case ${s.maxMs.toFixed(0)} ms  ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  for (const f of s.failures.slice(0, 10)) process.stdout.write(`  case ${f.i} ${f.kind}: ${f.message}\n`);
}
if (bad) process.stdout.write(`${bad} failures; their inputs are in ${opts.out} (named target-seed-case).\n`);
process.exitCode = bad ? 1 : 0;
