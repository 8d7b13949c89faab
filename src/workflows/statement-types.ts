// What the statement workflows take, and their ids: owned by the workflow side, imported by whoever starts
// them (the API, the CLI, the schedule). Deterministic code only here: no imports from Node or the SDK.

export interface StatementWorkflowInput {
  userId: number;
  /** The period [from, to), as canonicalIso gives it (so one period is always one workflow id). */
  from: string;
  to: string;
}

export interface StoredStatement {
  userId: number;
  from: string;
  to: string;
  pdfSize: number;
  pdfSha256: string;
  /** true when this workflow execution printed the stored PDF; false when an earlier one had. */
  storedNow: boolean;
}

export interface MonthlyStatementsInput {
  /** Default: the calendar month (UTC) before the one the workflow started in. */
  period?: { from: string; to: string };
  /** Continue-as-new state: wallets with ids up to this one are done, and how many statements were started. */
  afterUserId?: number;
  started?: number;
  failed?: number;
}

export interface MonthlyStatementsResult {
  from: string;
  to: string;
  /** Statement workflows this run started (wallets whose statement was stored already are not counted). */
  started: number;
  /** Of those, the ones that failed for good (each one's own workflow says why). */
  failed: number;
}

/** ISO 8601 in UTC, without a fractional part when it is zero: 2026-11-01T00:00:00Z. */
export function canonicalIso(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

export function statementWorkflowId(userId: number, from: string, to: string): string {
  return `statement-${userId}-${from}-${to}`;
}

/** The calendar month (UTC) before the one `now` falls in. */
export function previousMonth(now: Date): { from: string; to: string } {
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return { from: canonicalIso(from), to: canonicalIso(to) };
}
