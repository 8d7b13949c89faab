// Cleanups that must run when a test file ends, whoever registers them. vitest runs no afterAll registered
// inside a beforeAll (where helpers like createTestDatabase are usually called), so helpers register here and
// tests/setup-file-cleanup.ts runs everything at the end of each file, last registered first.
const cleanups: (() => Promise<void> | void)[] = [];

export function onFileEnd(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

export async function runFileCleanups(): Promise<void> {
  const errors: unknown[] = [];
  for (let next = cleanups.pop(); next; next = cleanups.pop()) {
    try {
      await next();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'a test file cleanup failed');
}
