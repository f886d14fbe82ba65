import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Counts passed / failed / skipped tests and leaves them in the file named by PERSONA_TEST_SUMMARY,
 * so that scripts/test.mjs can end the run with the plain `N passed, N failed` line CI reads.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A test file that failed to load counts as a failure.
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++;
    }
    const file = process.env.PERSONA_TEST_SUMMARY;
    if (file) writeFileSync(file, JSON.stringify({ passed, failed, skipped }));
  }
}
