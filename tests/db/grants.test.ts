// Least privilege (db/grants.sql): every function in schema wallet has a recorded decision, the database holds
// exactly what the file says, and each role is refused what its process never calls.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { expectSqlState } from '../helpers/sql-errors.js';

const ROLES = ['wallet_app', 'wallet_worker'] as const;
const run = promisify(execFile);

/** The file's decisions: function name -> roles granted; owner-only functions map to no roles. */
async function decisions(): Promise<Map<string, string[]>> {
  const text = (await readFile('db/grants.sql', 'utf8')).replace(/--.*$/gm, '');
  const found = new Map<string, string[]>();
  for (const [, name, roles] of text.matchAll(/GRANT EXECUTE ON FUNCTION wallet\.(\w+) TO ([\w, ]+);/g)) {
    found.set(name as string, [...(found.get(name as string) ?? []), ...(roles as string).split(/,\s*/)]);
  }
  for (const [, name] of text.matchAll(/REVOKE ALL ON FUNCTION wallet\.(\w+) FROM PUBLIC;/g)) {
    if (found.has(name as string))
      throw new Error(`db/grants.sql both grants and internalises wallet.${name}`);
    found.set(name as string, []);
  }
  return found;
}

let db: TestDatabase;
let file: Map<string, string[]>;
beforeAll(async () => {
  db = await createTestDatabase();
  file = await decisions();
});

async function functionsInSchema(): Promise<string[]> {
  const { rows } = await db.admin.query<{ name: string }>(
    `SELECT DISTINCT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'wallet' ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

describe('db/grants.sql', () => {
  it('decides for every function in schema wallet', async () => {
    const missing = (await functionsInSchema()).filter((name) => !file.has(name));
    const advice = missing.map(
      (name) =>
        `wallet.${name} has no decision: add to db/grants.sql one of\n` +
        `  GRANT EXECUTE ON FUNCTION wallet.${name} TO wallet_app;     -- the API calls it\n` +
        `  GRANT EXECUTE ON FUNCTION wallet.${name} TO wallet_worker;  -- the receipt worker calls it\n` +
        `  REVOKE ALL ON FUNCTION wallet.${name} FROM PUBLIC;          -- internal: schema owner only\n` +
        'then regenerate the procedures migration (npm run db:procedures-migration -- <name>).',
    );
    expect(advice.join('\n'), advice.join('\n')).toBe('');
  });

  it('names no function the schema lacks', async () => {
    const present = new Set(await functionsInSchema());
    expect([...file.keys()].filter((name) => !present.has(name))).toEqual([]);
  });

  it('is what the migrated database holds, for each role and PUBLIC', async () => {
    const { rows } = await db.admin.query<{ name: string; role: string }>(
      `SELECT DISTINCT p.proname AS name, r.role FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = 'wallet'
        CROSS JOIN unnest($1::text[]) r(role)
        WHERE has_function_privilege(r.role, p.oid, 'EXECUTE') ORDER BY 1, 2`,
      [ROLES],
    );
    const expected = [...file]
      .flatMap(([name, roles]) => roles.map((role) => ({ name, role })))
      .sort((a, b) => a.name.localeCompare(b.name, 'en') || a.role.localeCompare(b.role, 'en'));
    expect(rows).toEqual(expected);
    const publicRows = await db.admin.query(
      `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = 'wallet'
        CROSS JOIN aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0`,
    );
    expect(publicRows.rows, 'functions PUBLIC may execute').toEqual([]);
  });
});

describe('each role is limited to what its process calls', () => {
  let app: pg.Client;
  let worker: pg.Client;
  let alice: number;
  let bob: number;
  let txid: number;
  beforeAll(async () => {
    [app, worker] = await Promise.all([db.client('wallet_app'), db.client('wallet_worker')]);
    alice = await fundedUser(db.admin, 'alice', '100.00');
    bob = await fundedUser(db.admin, 'bob');
    txid = (await app.query('SELECT transaction_id FROM wallet.transfer($1, $2, 5)', [alice, bob])).rows[0]
      .transaction_id;
  });
  afterAll(async () => {
    await Promise.all([app.end(), worker.end()]);
  });

  const pdf = Buffer.from('%PDF-1.4 forged');
  const internals: Array<[string, string, (txid: number) => unknown[]]> = [
    ['expire_due_holds', 'SELECT wallet.expire_due_holds($1)', (id: number) => [id]],
    ['claim_idempotency_key', "SELECT wallet.claim_idempotency_key($1, 'k', '\\x00')", (id: number) => [id]],
    ['assert_valid_amount', "SELECT wallet.assert_valid_amount($1, 'x')", () => [1]],
    ['assert_valid_idempotency_key', 'SELECT wallet.assert_valid_idempotency_key($1)', () => ['k']],
    ['request_fingerprint', "SELECT wallet.request_fingerprint('transfer', $1, 2, 1)", (id: number) => [id]],
    ['max_balance', 'SELECT wallet.max_balance() WHERE $1::int IS NOT NULL', () => [1]],
    ['audit', 'SELECT * FROM wallet.audit() WHERE $1::int IS NOT NULL', () => [1]],
    ['verify', 'SELECT * FROM wallet.verify($1)', (id: number) => [id]],
    ['verify_head', "SELECT wallet.verify_head($1, 1, 'x')", (id: number) => [id]],
    [
      'entry_hash',
      "SELECT wallet.entry_hash('\\x00', $1, 1, 1, 'deposit', NULL, 1, 1, now())",
      (id: number) => [id],
    ],
    ['chain_transactions', 'SELECT wallet.chain_transactions(ARRAY[$1::bigint])', (id: number) => [id]],
    ['refunded_total', "SELECT wallet.refunded_total($1, 'transfer')", (id: number) => [id]],
  ];

  it('the API role cannot store a PDF, claim receipts or load a receipt document', async () => {
    await expectSqlState(app.query('SELECT * FROM wallet.store_receipt_pdf($1, $2)', [txid, pdf]), '42501');
    await expectSqlState(app.query("SELECT * FROM wallet.claim_receipts('api', 10, '15 s')"), '42501');
    await expectSqlState(app.query("SELECT wallet.release_receipts('api', $1)", [[txid]]), '42501');
    await expectSqlState(app.query('SELECT * FROM wallet.receipt_document($1)', [txid]), '42501');
  });

  it('the worker role cannot move money, create users, read balances or log anyone in', async () => {
    await expectSqlState(worker.query('SELECT * FROM wallet.transfer($1, $2, 1)', [alice, bob]), '42501');
    await expectSqlState(worker.query('SELECT * FROM wallet.deposit($1, 1)', [bob]), '42501');
    await expectSqlState(worker.query('SELECT * FROM wallet.refund($1)', [txid]), '42501');
    await expectSqlState(worker.query('SELECT * FROM wallet.entries WHERE user_id = $1', [alice]), '42501');
    await expectSqlState(worker.query('SELECT wallet.create_user($1, NULL)', ['mallory']), '42501');
    await expectSqlState(worker.query('SELECT * FROM wallet.balance($1)', [alice]), '42501');
    await expectSqlState(worker.query('SELECT * FROM wallet.user_credentials($1)', ['alice']), '42501');
    await expectSqlState(worker.query('SELECT * FROM wallet.wallets WHERE user_id = $1', [alice]), '42501');
  });

  it.each(internals)('neither role can call the internal wallet.%s', async (_name, sql, args) => {
    await expectSqlState(app.query(sql, args(txid)), '42501');
    await expectSqlState(worker.query(sql, args(txid)), '42501');
  });

  it('the worker role does its own work: claim, mark, load and store', async () => {
    const claimed = await worker.query("SELECT transaction_id FROM wallet.claim_receipts('w', 10, '15 s')");
    expect(claimed.rows.map((r) => r.transaction_id)).toContain(txid); // with alice's deposit
    expect((await worker.query('SELECT wallet.mark_receipts_started($1) AS n', [[txid]])).rows[0].n).toBe(1);
    const doc = await worker.query('SELECT * FROM wallet.receipt_document($1)', [txid]);
    expect(doc.rows).toHaveLength(1);
    await worker.query('SELECT * FROM wallet.store_receipt_pdf($1, $2)', [txid, pdf]);
    const stored = await db.admin.query('SELECT status FROM wallet.receipts WHERE transaction_id = $1', [
      txid,
    ]);
    expect(stored.rows[0].status).toBe('rendered');
  });
});

describe('login roles made by src/db/grant-login-cli.ts', () => {
  it('a worker login acts as wallet_worker, and cannot act as wallet_app', async () => {
    const login = `receipts_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await run(process.execPath, ['--import', 'tsx', 'src/db/grant-login-cli.ts', login, 'wallet_worker'], {
      env: { ...process.env, DATABASE_URL: db.url, LOGIN_PASSWORD: password },
    });
    const url = new URL(db.url);
    url.username = login;
    url.password = password;
    const asWorker = createPool({ url: url.toString(), role: 'wallet_worker', max: 1 });
    const asApp = createPool({ url: url.toString(), role: 'wallet_app', max: 1 });
    try {
      const backlog = await asWorker.query('SELECT pending FROM wallet.receipt_backlog()');
      expect(backlog.rows).toHaveLength(1);
      await expectSqlState(asWorker.query('SELECT * FROM wallet.deposit($1, 1)', [1]), '42501');
      await expectSqlState(asApp.query('SELECT 1'), '42501'); // SET ROLE wallet_app: not a member
    } finally {
      await Promise.all([asWorker.end(), asApp.end()]);
      await db.admin.query(`DROP ROLE ${login}`);
    }
  });
});
