// The typed calls of src/db/ledger.ts: each is a named prepared statement, parsed once per connection.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { ledger } from '../../src/db/ledger.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let client: pg.Client;
beforeAll(async () => {
  db = await createTestDatabase();
  client = await db.client('wallet_app');
});

const prepared = async () =>
  (
    await client.query(
      'SELECT name, generic_plans + custom_plans AS executions FROM pg_prepared_statements ORDER BY name',
    )
  ).rows as { name: string; executions: number }[];

describe('ledger calls', () => {
  it('prepare wallet.transfer once per connection and reuse it', async () => {
    const from = await fundedUser(db.admin, 'prep_from', '10.00');
    const to = await fundedUser(db.admin, 'prep_to');
    const first = await ledger.transfer(client, from, to, '1.00');
    const second = await ledger.transfer(client, from, to, '2.50');
    expect(second.transaction_id).toBeGreaterThan(first.transaction_id);
    expect(second.sender_balance).toBe('6.50');
    expect(await prepared()).toEqual([{ name: 'wallet.transfer', executions: 2 }]);
  });

  it('give every call its own statement name, so calls share one connection without a clash', async () => {
    const user = await fundedUser(db.admin, 'prep_reader', '5.00');
    await ledger.balance(client, user);
    await ledger.history(client, user, 10, null);
    await ledger.transactionFor(client, user, 1);
    await ledger.receiptFor(client, user, 1);
    await ledger.receiptBacklog(client);
    await ledger.deposit(client, user, '1.00');
    await ledger.balance(client, user);
    const names = (await prepared()).map((s) => s.name);
    expect(names).toEqual([
      'wallet.balance',
      'wallet.deposit',
      'wallet.history',
      'wallet.receipt_backlog',
      'wallet.receipt_for',
      'wallet.transaction_for',
      'wallet.transfer',
    ]);
  });
});
