// What a statement shows: the rows of wallet.statement_summary and wallet.statement (the SQL's own names, as
// the JSON API returns them). Money is the exact two-decimal string PostgreSQL returned, never a number.

import type { StatementSummary } from '../db/rows.js';

export type { StatementSummary };

export interface StatementEntry {
  entry: number;
  transaction_id: number;
  kind: string;
  direction: 'sent' | 'received';
  counterparty_id: number | null;
  amount: string;
  balance_after: string;
  /** ISO 8601 in UTC. */
  created_at: string;
  hash: string;
}

export interface StatementDocument {
  userId: number;
  username: string;
  /** The period [from, to), ISO 8601 in UTC. */
  from: string;
  to: string;
  summary: StatementSummary;
  entries: StatementEntry[];
}
