// docs/books.md's SQL, run as written: every ```sql block in order on a fresh database, and the session's
// answers are the ones the page shows.
import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

const blocks = [...(await readFile('docs/books.md', 'utf8')).matchAll(/```sql\n([\s\S]*?)```/g)].map(
  (m) => m[1] as string,
);

describe('docs/books.md', () => {
  it('runs every SQL block as written, with the answers the page shows', async () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const c = await db.client(); // superuser, simple query protocol: a DBA in psql
    const results: pg.QueryResult[] = [];
    for (const block of blocks) {
      const r = (await c.query(block)) as unknown as pg.QueryResult | pg.QueryResult[];
      results.push(...(Array.isArray(r) ? r : [r]));
    }
    const rows = (sql: string) =>
      results.find((r) => r.command === 'SELECT' && sql.length > 0 && r.fields.some((f) => f.name === sql))
        ?.rows;
    expect(rows('refundable_remaining')).toEqual([
      {
        transaction_id: 3,
        refund_of: 2,
        amount: '15.00',
        refunded_total: '15.00',
        refundable_remaining: '25.00',
      },
    ]);
    const session = results.slice(-5);
    expect(session[0]?.rows).toEqual([]); // verify()
    expect(session[1]?.rows).toEqual([{ entry: 3, balance: '75.00' }]);
    expect(session[2]?.rows).toEqual([{ balance_at: '0.00' }]);
    expect(session[3]?.rows).toEqual([
      { entry: 1, kind: 'deposit', direction: 'received', amount: '100.00', balance_after: '100.00' },
      { entry: 2, kind: 'transfer', direction: 'sent', amount: '40.00', balance_after: '60.00' },
      { entry: 3, kind: 'refund', direction: 'received', amount: '15.00', balance_after: '75.00' },
    ]);
    expect(session[4]?.rows).toEqual([
      {
        opening_balance: '0.00',
        total_in: '115.00',
        total_out: '40.00',
        closing_balance: '75.00',
        entries: 3,
        closing_entry: 3,
      },
    ]);
  });
});
