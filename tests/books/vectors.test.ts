// The chain's test vectors (tests/books/vectors.json, quoted in docs/books.md) hold for BOTH implementations:
// the SQL that writes the chains and the TypeScript verifier that recomputes them.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalLine, canonicalTime, entryHash, genesis } from '../../src/books/canonical.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

interface Vector {
  user_id: string;
  entry: string;
  transaction_id: string;
  kind: string;
  counterparty_id: string | null;
  amount: string;
  balance_after: string;
  created_at: string;
  previous_hash: string;
  canonical: string;
  canonical_hex: string;
  hash: string;
}
const vectors = JSON.parse(await readFile('tests/books/vectors.json', 'utf8')) as {
  genesis: Array<{ user_id: string; text: string; hash: string }>;
  entries: Vector[];
};

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

describe('test vectors', () => {
  it('has worked entries to check', () => {
    expect(vectors.genesis.length).toBeGreaterThan(1);
    expect(vectors.entries.length).toBeGreaterThan(3);
  });

  it.each(vectors.genesis)('genesis of wallet $user_id: TypeScript and SQL', async (g) => {
    expect(genesis(g.user_id).toString('hex')).toBe(g.hash);
    const sql = await db.admin.query("SELECT encode(wallet.genesis($1), 'hex') AS h", [g.user_id]);
    expect(sql.rows[0].h).toBe(g.hash);
  });

  it.each(vectors.entries)('wallet $user_id entry $entry: TypeScript', (v) => {
    const fields = {
      userId: v.user_id,
      entry: v.entry,
      transactionId: v.transaction_id,
      kind: v.kind,
      counterpartyId: v.counterparty_id,
      amount: v.amount,
      balanceAfter: v.balance_after,
      createdAt: v.created_at,
    };
    expect(canonicalLine(fields)).toBe(v.canonical);
    expect(Buffer.from(v.canonical, 'utf8').toString('hex')).toBe(v.canonical_hex);
    expect(entryHash(Buffer.from(v.previous_hash, 'hex'), fields).toString('hex')).toBe(v.hash);
  });

  it.each(vectors.entries)('wallet $user_id entry $entry: SQL, whatever the session time zone', async (v) => {
    const c = await db.admin.connect();
    try {
      await c.query("SET TimeZone = 'Pacific/Chatham'");
      await c.query("SET DateStyle = 'SQL, DMY'");
      const { rows } = await c.query(
        `SELECT encode(wallet.entry_hash(decode($1, 'hex'), $2, $3, $4, $5, $6, $7::numeric, $8::numeric,
                                         $9::timestamptz), 'hex') AS h,
                encode(sha256(decode($1, 'hex') || decode($10, 'hex')), 'hex') AS from_bytes`,
        [
          v.previous_hash,
          v.user_id,
          v.entry,
          v.transaction_id,
          v.kind,
          v.counterparty_id,
          v.amount,
          v.balance_after,
          v.created_at,
          v.canonical_hex,
        ],
      );
      expect(rows[0]).toEqual({ h: v.hash, from_bytes: v.hash });
    } finally {
      c.release();
    }
  });

  it('reads PostgreSQL UTC text as the canonical time, padding the microseconds', () => {
    expect(canonicalTime('2026-11-30 23:59:59+00')).toBe('2026-11-30T23:59:59.000000Z');
    expect(canonicalTime('2026-11-30 23:59:59.5+00')).toBe('2026-11-30T23:59:59.500000Z');
    expect(canonicalTime('2026-11-30 23:59:59.123456+00')).toBe('2026-11-30T23:59:59.123456Z');
    expect(() => canonicalTime('2026-11-30 23:59:59+01')).toThrow();
  });
});
