// Runs the test suite and ends with the plain line `N passed, N failed, N skipped` that CI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const summary = path.join(mkdtempSync(path.join(os.tmpdir(), 'pv-test-')), 'summary.json');
const vitest = path.join(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, PERSONA_TEST_SUMMARY: summary } });
let counts = { passed: 0, failed: 1, skipped: 0 };
if (existsSync(summary)) counts = JSON.parse(readFileSync(summary, 'utf8'));
if (r.status !== 0 && counts.failed === 0) counts.failed = 1;
process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
process.exit(r.status ?? 1);
