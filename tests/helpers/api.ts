// An API on a fresh test database: buildApp with a pool like the server's, users with known passwords, and a
// fake receipt starter that records what it was asked to start.
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type pg from 'pg';
import { type AppDeps, buildApp } from '../../src/api/app.js';
import type { ReceiptOutcome, ReceiptStarter, StartState } from '../../src/api/receipts.js';
import type { StatementStarter } from '../../src/api/statements.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { createPool } from '../../src/db/pool.js';
import type { ReceiptStart } from '../../src/temporal/start-receipt.js';
import type { StatementWorkflowInput } from '../../src/workflows/statement-types.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { onFileEnd } from './file-cleanup.js';

export const PASSWORD = 'correct horse battery staple';

export const testConfig = {
  depositsEnabled: true,
  logLevel: 'silent',
  temporalAddress: '127.0.0.1:1',
  temporalNamespace: 'default',
  receiptTaskQueue: 'wallet-receipts',
};

export function basic(username: string, password = PASSWORD): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export class FakeReceipts implements ReceiptStarter {
  readonly started: ReceiptStart[] = [];
  outcome: ReceiptOutcome = 'started';
  healthState: 'up' | 'down' | 'disabled' = 'up';
  async start(receipt: ReceiptStart) {
    this.started.push(receipt);
    return this.outcome;
  }
  async health() {
    return this.healthState;
  }
  startState(): StartState {
    return this.healthState === 'disabled'
      ? { state: 'disabled', reason: null }
      : { state: 'starting', reason: null };
  }
  async close() {}
}

/** Records the statement workflows it was asked to start; `fail` makes a start fail as an unreachable Temporal. */
export class FakeStatements implements StatementStarter {
  readonly started: StatementWorkflowInput[] = [];
  fail = false;
  async start(input: StatementWorkflowInput) {
    if (this.fail) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    this.started.push(input);
  }
  async close() {}
}

export interface TestUser {
  id: number;
  username: string;
  auth: string;
}

export interface ApiContext {
  db: TestDatabase;
  /** Acts as wallet_app, as the server's pool does. */
  pool: pg.Pool;
  /** Builds another app on the same database (closed after the file's tests). */
  build(overrides?: Partial<AppDeps> & { depositsEnabled?: boolean }): Promise<FastifyInstance>;
  /** A user with a password (cheap scrypt cost, so test files stay fast) and an optional balance. */
  user(prefix: string, balance?: string): Promise<TestUser>;
  balanceOf(userId: number): Promise<string>;
  transactionCount(): Promise<number>;
}

let counter = 0;

export async function createApiContext(): Promise<ApiContext> {
  const db = await createTestDatabase();
  const pool = createPool({ url: db.url, max: 10, role: 'wallet_app' });
  // The same stored hash for every test user: hashing once per file, verifying once per user and app.
  const hash = await hashPassword(PASSWORD, 10);
  const apps: FastifyInstance[] = [];
  onFileEnd(async () => {
    await Promise.all(apps.map((app) => app.close()));
    if (!pool.ended) await pool.end();
  });
  return {
    db,
    pool,
    async build(overrides = {}) {
      const { depositsEnabled = true, ...rest } = overrides;
      const app = await buildApp({
        pool,
        config: { ...testConfig, depositsEnabled },
        receipts: new FakeReceipts(),
        statements: new FakeStatements(),
        logger: false,
        auth: { maxFailures: 1_000_000 }, // the throttle has its own tests; here every request is 127.0.0.1
        ...rest,
      });
      apps.push(app);
      await app.ready();
      return app;
    },
    async user(prefix, balance = '0.00') {
      const username = `${prefix}_${process.pid}_${++counter}`;
      const { rows } = await db.admin.query('SELECT wallet.create_user($1, $2) AS id', [username, hash]);
      const id = rows[0].id as number;
      if (balance !== '0.00')
        await db.admin.query('SELECT * FROM wallet.deposit($1, $2::numeric)', [id, balance]);
      return { id, username, auth: basic(username) };
    },
    async balanceOf(userId) {
      const { rows } = await db.admin.query(
        'SELECT balance::text AS b FROM wallet.wallets WHERE user_id = $1',
        [userId],
      );
      return rows[0].b as string;
    },
    async transactionCount() {
      const { rows } = await db.admin.query('SELECT count(*)::int AS n FROM wallet.transactions');
      return rows[0].n as number;
    },
  };
}

/** A log sink for tests that read what the API logged. */
export function captureLogs(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

/** POST of a JSON body with Basic credentials and optional extra headers, through app.inject(). */
export function postJson(
  app: FastifyInstance,
  url: string,
  auth: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url,
    headers: { authorization: auth, 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(body),
  });
}

export function errorOf(response: LightMyRequestResponse): { error: string; code: string } {
  return response.json() as { error: string; code: string };
}
