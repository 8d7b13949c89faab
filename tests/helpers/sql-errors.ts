// Asserting on SQLSTATEs rather than message text: the codes are the contract, the words may change.
import { expect } from 'vitest';

export async function expectSqlState(
  work: Promise<unknown>,
  sqlstate: string,
): Promise<{ message: string; detail?: string }> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e as { code?: string; message: string; detail?: string },
  );
  expect(error, `expected SQLSTATE ${sqlstate}, but the call succeeded`).toBeDefined();
  expect(error?.code, `${error?.message} (${error?.detail ?? 'no detail'})`).toBe(sqlstate);
  return error as { message: string; detail?: string };
}
