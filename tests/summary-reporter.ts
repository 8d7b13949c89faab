// Prints one plain summary line CI can read, and in CI turns any skipped test into a failure:
// a component that is missing there must fail the run, not quietly drop its tests. Errors thrown outside any
// test (an unhandled rejection, a client without an error listener) fail the run with every test passed; the
// default reporter prints them far above the end of a long log, so they are repeated here, last and short.
import type { SerializedError } from 'vitest';
import type { Reporter, TestModule } from 'vitest/node';

const STACK_LINES = 8;

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
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
    for (const error of unhandledErrors) console.log(`\nunhandled error: ${describeError(error)}`);
    // Unhandled errors fail the run even with every test passed: the line says so, rather than look green.
    const errors = unhandledErrors.length ? `, ${unhandledErrors.length} unhandled error(s) (above)` : '';
    console.log(
      `\nvitest: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${errors}`,
    );
    if (process.env.CI === 'true' && counts.skipped > 0) {
      console.log(`CI does not allow skipped tests:\n  ${skipped.join('\n  ')}`);
      process.exitCode = 1;
    }
  }
}

function describeError(error: SerializedError): string {
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  const stack = frames
    .slice(0, STACK_LINES)
    .map((line) => line.trim())
    .join('\n  ');
  const test = error.VITEST_TEST_NAME ? `: ${error.VITEST_TEST_NAME}` : '';
  const origin = error.VITEST_TEST_PATH ? ` (while ${error.VITEST_TEST_PATH} ran${test})` : '';
  const code = error.code ? ` [${error.code}]` : '';
  return `${error.name ?? 'Error'}${code}: ${error.message}${origin}\n  ${stack}`;
}
