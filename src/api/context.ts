// What the routes share, in a module of its own so that app.ts and the routes never import each other:
// app.ts builds an AppContext and registers the routes with it; routes take it (and caller) from here.
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { AuthUser } from './auth.js';
import { unauthorized } from './errors.js';
import type { ReceiptStarter } from './receipts.js';
import type { StatementStarter } from './statements.js';

export interface AppContext {
  pool: pg.Pool;
  receipts: ReceiptStarter;
  /** Starts statement PDF workflows (GET /api/wallet/statement.pdf). */
  statements: StatementStarter;
  depositsEnabled: boolean;
}

/** The authenticated user of a request on a secured route. */
export function caller(request: FastifyRequest): AuthUser {
  if (!request.user) throw unauthorized();
  return request.user;
}

/** Where a transaction's receipt is served (GET .../receipt). */
export const receiptUrl = (transactionId: number) => `/api/wallet/transactions/${transactionId}/receipt`;
