// Prints one plain summary line CI can read, and in CI turns any skipped test into a failure:
// a component that is missing there must fail the run, not quietly drop its tests.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const skipped: string[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else {
          counts.skipped++;
          skipped.push(test.fullName);
        }
      }
      if (module.state() === 'failed' && module.children.size === 0) counts.failed++; // a file that did not load
    }
    console.log(`\nvitest: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
    if (process.env.CI === 'true' && counts.skipped > 0) {
      console.log(`CI does not allow skipped tests:\n  ${skipped.join('\n  ')}`);
      process.exitCode = 1;
    }
  }
}
