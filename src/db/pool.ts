// The connection pool. Ids arrive as JS numbers (bigint ids stay far below 2^53); money stays a string.
import pg from 'pg';

// int8 (20): ids and counts. numeric (1700) is deliberately left alone: pg returns it as an exact string.
pg.types.setTypeParser(20, (value) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`bigint ${value} is beyond the safe integer range`);
  return n;
});

export interface PoolOptions {
  url: string;
  max?: number;
  /** The role to act as (SET ROLE at connect); the API uses the least-privileged wallet_app. */
  role?: string;
  applicationName?: string;
  statementTimeoutMs?: number;
  /** The API starts each receipt's workflow itself right after COMMIT: its receipt rows are then born leased
   *  to it (the claimed_at/claimed_by defaults of migration 0004), so the dispatcher's poll leaves them alone
   *  unless the API's start fails and the lease runs out. */
  startsReceiptWorkflows?: boolean;
}

export function createPool(opts: PoolOptions): pg.Pool {
  const settings: string[] = [];
  if (opts.role) settings.push(`-c role=${opts.role}`);
  if (opts.statementTimeoutMs) settings.push(`-c statement_timeout=${opts.statementTimeoutMs}`);
  if (opts.startsReceiptWorkflows) settings.push('-c wallet.caller_starts_receipts=on');
  return new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    options: settings.join(' ') || undefined,
    application_name: opts.applicationName ?? 'wallet',
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
}
