// POST /api/wallet/transfer/: the happy path, every domain error of the contract, and idempotency.
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiContext, createApiContext, FakeReceipts, postJson } from '../helpers/api.js';

let ctx: ApiContext;
let app: FastifyInstance;
let receipts: FakeReceipts;

beforeAll(async () => {
  ctx = await createApiContext();
  receipts = new FakeReceipts();
  app = await ctx.build({ receipts });
});

const transfer = (auth: string, body: unknown, headers: Record<string, string> = {}) =>
  postJson(app, '/api/wallet/transfer/', auth, body, headers);

describe('transfer', () => {
  it('moves money and answers as the contract says, then starts the receipt workflow', async () => {
    const john = await ctx.user('john', '100.00');
    const jane = await ctx.user('jane');
    const res = await transfer(john.auth, { receiver_id: jane.id, amount: '50.00' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      message: 'Transfer successful',
      transaction_id: expect.any(Number),
      sender_balance: '50.00',
      amount: '50.00',
      receiver_id: jane.id,
      receipt: { status: 'pending', url: `/api/wallet/transactions/${body.transaction_id}/receipt` },
    });
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await ctx.balanceOf(john.id)).toBe('50.00');
    expect(await ctx.balanceOf(jane.id)).toBe('50.00');
    expect(receipts.started).toContainEqual({
      transactionId: body.transaction_id,
      kind: 'transfer',
      senderId: john.id,
      receiverId: jane.id,
      amount: '50.00',
    });
  });

  it('accepts amounts without decimals or with one, and answers with two', async () => {
    const a = await ctx.user('a', '10.00');
    const b = await ctx.user('b');
    for (const [amount, shown] of [
      ['1', '1.00'],
      ['0.5', '0.50'],
      ['0.01', '0.01'],
    ]) {
      const res = await transfer(a.auth, { receiver_id: b.id, amount });
      expect(res.statusCode).toBe(201);
      expect(res.json().amount).toBe(shown);
    }
    expect(await ctx.balanceOf(a.id)).toBe('8.49');
  });

  it('works on the path without its trailing slash', async () => {
    const a = await ctx.user('a', '1.00');
    const b = await ctx.user('b');
    const res = await app.inject({
      method: 'POST',
      url: '/api/wallet/transfer',
      headers: { authorization: a.auth },
      payload: { receiver_id: b.id, amount: '1.00' },
    });
    expect(res.statusCode).toBe(201);
  });

  it("422 insufficient_funds with the seed's error text, and no money moves", async () => {
    const a = await ctx.user('poor', '10.00');
    const b = await ctx.user('b');
    const res = await transfer(a.auth, { receiver_id: b.id, amount: '10.01' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ error: 'Insufficient funds', code: 'insufficient_funds' });
    expect(await ctx.balanceOf(a.id)).toBe('10.00');
    expect(await ctx.balanceOf(b.id)).toBe('0.00');
  });

  it('404 receiver_not_found for a wallet that does not exist, without echoing SQL details', async () => {
    const a = await ctx.user('a', '10.00');
    const res = await transfer(a.auth, { receiver_id: 987654321, amount: '1.00' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'Receiver not found', code: 'receiver_not_found' });
    expect(res.body).not.toMatch(/wallet 987654321|DETAIL|SELECT/);
  });

  it('422 same_wallet for a transfer to oneself', async () => {
    const a = await ctx.user('a', '10.00');
    const res = await transfer(a.auth, { receiver_id: a.id, amount: '1.00' });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('same_wallet');
    expect(await ctx.balanceOf(a.id)).toBe('10.00');
  });

  it('422 balance_limit_exceeded when the receiver would pass the maximum balance', async () => {
    const a = await ctx.user('a', '10.00');
    const rich = await ctx.user('rich');
    // Setup only: the books of this test database need not balance.
    await ctx.db.admin.query('UPDATE wallet.wallets SET balance = 999999999999999999.99 WHERE user_id = $1', [
      rich.id,
    ]);
    const res = await transfer(a.auth, { receiver_id: rich.id, amount: '0.01' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({
      error: 'The receiving wallet would exceed its maximum balance',
      code: 'balance_limit_exceeded',
    });
    expect(await ctx.balanceOf(a.id)).toBe('10.00');
  });
});

describe('transfer idempotency', () => {
  it('replays the same status and body with Idempotent-Replayed: true, and moves money once', async () => {
    const a = await ctx.user('a', '100.00');
    const b = await ctx.user('b');
    const first = await transfer(
      a.auth,
      { receiver_id: b.id, amount: '30.00' },
      { 'idempotency-key': 'k-1' },
    );
    const started = receipts.started.length;
    const again = await transfer(a.auth, { receiver_id: b.id, amount: '30' }, { 'idempotency-key': 'k-1' });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await ctx.balanceOf(a.id)).toBe('70.00');
    expect(receipts.started.length).toBe(started); // a replay starts nothing new
  });

  it('scopes keys to the caller: another user may use the same key', async () => {
    const a = await ctx.user('a', '5.00');
    const c = await ctx.user('c', '5.00');
    const b = await ctx.user('b');
    const r1 = await transfer(a.auth, { receiver_id: b.id, amount: '1.00' }, { 'idempotency-key': 'shared' });
    const r2 = await transfer(c.auth, { receiver_id: b.id, amount: '1.00' }, { 'idempotency-key': 'shared' });
    expect([r1.statusCode, r2.statusCode]).toEqual([201, 201]);
    expect(r2.headers['idempotent-replayed']).toBeUndefined();
    expect(await ctx.balanceOf(b.id)).toBe('2.00');
  });

  it('422 idempotency_key_reused for the same key with another body', async () => {
    const a = await ctx.user('a', '100.00');
    const b = await ctx.user('b');
    const c = await ctx.user('c');
    await transfer(a.auth, { receiver_id: b.id, amount: '10.00' }, { 'idempotency-key': 'k-2' });
    for (const body of [
      { receiver_id: b.id, amount: '10.01' },
      { receiver_id: c.id, amount: '10.00' },
    ]) {
      const res = await transfer(a.auth, body, { 'idempotency-key': 'k-2' });
      expect(res.statusCode).toBe(422);
      expect(res.json().code).toBe('idempotency_key_reused');
      expect(res.body).not.toContain('transaction'); // the DETAIL names the earlier transaction: never sent
    }
    expect(await ctx.balanceOf(a.id)).toBe('90.00');
    expect(await ctx.balanceOf(c.id)).toBe('0.00');
  });

  it('a failed request does not consume its key: after a deposit the same key succeeds', async () => {
    const a = await ctx.user('a', '1.00');
    const b = await ctx.user('b');
    const failed = await transfer(
      a.auth,
      { receiver_id: b.id, amount: '5.00' },
      { 'idempotency-key': 'k-3' },
    );
    expect(failed.statusCode).toBe(422);
    await ctx.db.admin.query('SELECT * FROM wallet.deposit($1, 10)', [a.id]);
    const ok = await transfer(a.auth, { receiver_id: b.id, amount: '5.00' }, { 'idempotency-key': 'k-3' });
    expect(ok.statusCode).toBe(201);
    expect(ok.headers['idempotent-replayed']).toBeUndefined();
  });

  it('409 idempotency_key_in_use with Retry-After while another request holds the key', async () => {
    const a = await ctx.user('a', '10.00');
    const b = await ctx.user('b');
    const holder = await ctx.db.client();
    await holder.query('BEGIN');
    // The same advisory lock wallet.claim_idempotency_key takes: as if a request with this key were running.
    await holder.query("SELECT pg_advisory_xact_lock(hashtextextended($1::text || ':' || $2, 7))", [
      a.id,
      'busy',
    ]);
    try {
      const res = await transfer(
        a.auth,
        { receiver_id: b.id, amount: '1.00' },
        { 'idempotency-key': 'busy' },
      );
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('idempotency_key_in_use');
      expect(res.headers['retry-after']).toBe('1');
      expect(await ctx.balanceOf(a.id)).toBe('10.00');
    } finally {
      await holder.query('ROLLBACK');
    }
  });
});
