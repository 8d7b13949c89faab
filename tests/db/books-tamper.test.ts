// A superuser gets around the append-only guard and changes history: wallet.verify() and the independent
// TypeScript verifier (also through `npm run cli -- verify`) name each change, and nothing else; a chain
// rewritten consistently passes both and is caught by wallet.verify_head with a head its owner kept.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Problem, verifyChains } from '../../src/books/verifier.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';

const run = promisify(execFile);
let db: TestDatabase;
const w: Record<string, number> = {};
let kept: { entry: number; hash: string }; // wallet d's head, as its owner saved it before the rewrite
let intactHead: { entry: number; hash: string };

/** As a superuser with triggers off for this session: the guard is bypassed, not removed. */
async function tamper(sql: string, params: unknown[] = []) {
  const c = await db.admin.connect();
  try {
    await c.query('SET session_replication_role = replica');
    await c.query(sql, params);
  } finally {
    await c.query('RESET session_replication_role');
    c.release();
  }
}
const entryOf = async (user: number, entry: number) =>
  (
    await db.admin.query('SELECT transaction_id FROM wallet.entries WHERE user_id = $1 AND entry = $2', [
      user,
      entry,
    ])
  ).rows[0].transaction_id as number;
const sqlProblems = async () =>
  (await db.admin.query('SELECT * FROM wallet.verify()')).rows.map(
    (r): Problem => ({
      userId: String(r.user_id),
      entry: r.entry === null ? null : String(r.entry),
      transactionId: r.transaction_id === null ? null : String(r.transaction_id),
      problem: r.problem,
    }),
  );

beforeAll(async () => {
  db = await createTestDatabase();
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f'])
    w[name] = await fundedUser(db.admin, `tamper_${name}`, '100.00');
  const names = Object.keys(w);
  // Every wallet gets 5 entries: its deposit and four transfers in a ring.
  for (let round = 0; round < 2; round++) {
    for (const [i, name] of names.entries()) {
      const next = names[(i + 1) % names.length] as string;
      await db.app.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [
        w[name],
        w[next],
        `${round + 1}.25`,
      ]);
    }
  }
  expect(await sqlProblems()).toEqual([]);
  kept = (await db.app.query('SELECT entry, hash FROM wallet.chain_head($1)', [w.d])).rows[0];
  intactHead = (await db.app.query('SELECT entry, hash FROM wallet.chain_head($1)', [w.e])).rows[0];

  // a: one amount changed. b: one entry deleted. c: two entries swapped.
  await tamper('UPDATE wallet.entries SET amount = amount - 1 WHERE user_id = $1 AND entry = 2', [w.a]);
  await tamper('DELETE FROM wallet.entries WHERE user_id = $1 AND entry = 3', [w.b]);
  await tamper(
    `UPDATE wallet.entries SET entry = -1 WHERE user_id = $1 AND entry = 2;
     UPDATE wallet.entries SET entry = 2 WHERE user_id = $1 AND entry = 3;
     UPDATE wallet.entries SET entry = 3 WHERE user_id = $1 AND entry = -1;`.replaceAll('$1', String(w.c)),
  );
  // d: its deposit made 900.00 larger, and every later balance, hash and the head recomputed to match.
  await tamper(
    `DO $$
     DECLARE r record; prev bytea; last bytea;
     BEGIN
       prev := wallet.genesis(${w.d});
       FOR r IN SELECT * FROM wallet.entries WHERE user_id = ${w.d} ORDER BY entry LOOP
         last := wallet.entry_hash(prev, r.user_id, r.entry, r.transaction_id, r.kind, r.counterparty_id,
                                   r.amount + CASE WHEN r.entry = 1 THEN 900 ELSE 0 END, r.balance_after + 900,
                                   r.created_at);
         UPDATE wallet.entries SET amount = amount + CASE WHEN entry = 1 THEN 900 ELSE 0 END,
                                   balance_after = balance_after + 900, hash = last
          WHERE user_id = r.user_id AND entry = r.entry;
         prev := last;
       END LOOP;
       UPDATE wallet.wallets SET balance = balance + 900, head_hash = last WHERE user_id = ${w.d};
     END $$`,
  );
});

describe('tampering as a superuser', () => {
  const expected = async (): Promise<Problem[]> => [
    {
      userId: String(w.a),
      entry: '2',
      transactionId: String(await entryOf(w.a as number, 2)),
      problem: 'altered_entry',
    },
    {
      userId: String(w.b),
      entry: '4',
      transactionId: String(await entryOf(w.b as number, 4)),
      problem: 'missing_entry',
    },
    {
      userId: String(w.c),
      entry: '2',
      transactionId: String(await entryOf(w.c as number, 2)),
      problem: 'altered_entry',
    },
    {
      userId: String(w.c),
      entry: '3',
      transactionId: String(await entryOf(w.c as number, 3)),
      problem: 'altered_entry',
    },
    {
      userId: String(w.c),
      entry: '4',
      transactionId: String(await entryOf(w.c as number, 4)),
      problem: 'altered_entry',
    },
  ];

  it('wallet.verify() names the changed amount, the deleted entry and the swapped pair, and nothing else', async () => {
    expect(await sqlProblems()).toEqual(await expected());
  });

  it('the TypeScript verifier says exactly the same, reading as the API role', async () => {
    const result = await verifyChains(db.url, { role: 'wallet_app' });
    expect(result.problems).toEqual(await sqlProblems());
    expect(result.wallets).toBe(6);
  });

  it('both answer for one wallet alone', async () => {
    const one = (await db.admin.query('SELECT * FROM wallet.verify($1)', [w.b])).rows;
    expect(one.map((r) => [r.entry, r.problem])).toEqual([[4, 'missing_entry']]);
    expect((await verifyChains(db.url, { userId: String(w.b) })).problems.map((p) => p.problem)).toEqual([
      'missing_entry',
    ]);
    expect((await db.admin.query('SELECT * FROM wallet.verify($1)', [w.e])).rows).toEqual([]);
  });

  it('a consistently rewritten chain passes verify() but not verify_head with the head kept before', async () => {
    expect((await db.admin.query('SELECT * FROM wallet.verify($1)', [w.d])).rows).toEqual([]);
    const check = async (user: number, entry: number, hash: string) =>
      (await db.admin.query('SELECT wallet.verify_head($1, $2, $3) AS ok', [user, entry, hash])).rows[0].ok;
    expect(await check(w.d as number, kept.entry, kept.hash)).toBe(false);
    expect(await check(w.e as number, intactHead.entry, intactHead.hash)).toBe(true);
    // An earlier head of an intact chain holds too; a wrong hash, a wrong entry or garbage does not.
    const earlier = (
      await db.admin.query(
        "SELECT encode(hash, 'hex') AS h FROM wallet.entries WHERE user_id = $1 AND entry = 2",
        [w.e],
      )
    ).rows[0].h;
    expect(await check(w.e as number, 2, earlier)).toBe(true);
    expect(await check(w.e as number, 3, earlier)).toBe(false);
    expect(await check(w.e as number, intactHead.entry, 'f'.repeat(64))).toBe(false);
    expect(await check(w.e as number, intactHead.entry, 'not hex')).toBe(false);
    // Past the tampered entries of a, its chain no longer reaches any head it had.
    expect(
      await check(
        w.a as number,
        1,
        (
          await db.admin.query(
            "SELECT encode(hash, 'hex') AS h FROM wallet.entries WHERE user_id = $1 AND entry = 1",
            [w.a],
          )
        ).rows[0].h,
      ),
    ).toBe(true);
  });

  it('audit() includes the chain problems', async () => {
    const rows = (await db.admin.query('SELECT problem, user_id FROM wallet.audit()')).rows;
    for (const p of await expected())
      expect(rows).toContainEqual({ problem: p.problem, user_id: Number(p.userId) });
  });

  it('a head or balance out of step with the last entry is named', async () => {
    await tamper('UPDATE wallet.wallets SET balance = balance + 1 WHERE user_id = $1', [w.f]);
    const rows = (await db.admin.query('SELECT entry, problem FROM wallet.verify($1)', [w.f])).rows;
    expect(rows).toEqual([{ entry: 5, problem: 'balance_mismatch' }]);
    await tamper(
      'UPDATE wallet.wallets SET balance = balance - 1, entries = entries + 1 WHERE user_id = $1',
      [w.f],
    );
    expect((await db.admin.query('SELECT entry, problem FROM wallet.verify($1)', [w.f])).rows).toEqual([
      { entry: 6, problem: 'head_mismatch' },
    ]);
    expect((await verifyChains(db.url, { userId: String(w.f) })).problems).toEqual([
      {
        userId: String(w.f),
        entry: '6',
        transactionId: String(await entryOf(w.f as number, 5)),
        problem: 'head_mismatch',
      },
    ]);
  });

  it('`npm run cli -- verify` prints the problems and exits non-zero; one intact wallet exits 0', async () => {
    const env = { ...process.env, DATABASE_URL: db.url };
    const failed = await run('npm', ['run', '--silent', 'cli', '--', 'verify'], { env }).then(
      () => null,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toContain(
      `wallet ${w.b} entry 4 (transaction ${await entryOf(w.b as number, 4)}): missing_entry`,
    );
    expect(failed?.stderr).toMatch(/entries of 6 wallet\(s\) checked: \d+ problem\(s\)/);
    const ok = await run('npm', ['run', '--silent', 'cli', '--', 'verify', '--user', String(w.e)], { env });
    expect(ok.stdout).toContain('5 entries of 1 wallet(s) checked: every chain is whole');
  });
});
