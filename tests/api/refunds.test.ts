// POST /api/wallet/transactions/{id}/refund/ against a real PostgreSQL: the happy paths (all, part, repeated),
// each error code, idempotent replay, the receipt started after the commit, and refund_of / refunded_total
// in the history and the transaction detail.
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiContext,
  createApiContext,
  errorOf,
  FakeReceipts,
  postJson,
  type TestUser,
} from '../helpers/api.js';

let ctx: ApiContext;
let app: FastifyInstance;
let receipts: FakeReceipts;

beforeAll(async () => {
  ctx = await createApiContext();
  receipts = new FakeReceipts();
  app = await ctx.build({ receipts });
});

const refundUrl = (id: number) => `/api/wallet/transactions/${id}/refund/`;

/** alice (funded) pays bob `amount`; returns both and the transfer's id. */
async function paid(amount = '10.00') {
  const alice = await ctx.user('alice', '100.00');
  const bob = await ctx.user('bob');
  const res = await postJson(app, '/api/wallet/transfer/', alice.auth, { receiver_id: bob.id, amount });
  expect(res.statusCode).toBe(201);
  return { alice, bob, id: res.json().transaction_id as number };
}

const detail = async (user: TestUser, id: number) =>
  (
    await app.inject({ url: `/api/wallet/transactions/${id}/`, headers: { authorization: user.auth } })
  ).json();

describe('refunds', () => {
  it('refunds all of a transfer with an empty body, starts its receipt, and shows on both sides', async () => {
    const { alice, bob, id } = await paid('10.00');
    const res = await postJson(app, refundUrl(id), bob.auth, {});
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      message: 'Refund successful',
      transaction_id: expect.any(Number),
      refund_of: id,
      amount: '10.00',
      balance: '0.00',
      refunded_total: '10.00',
      refundable_remaining: '0.00',
      receipt: { status: 'pending', url: `/api/wallet/transactions/${body.transaction_id}/receipt` },
    });
    expect(await ctx.balanceOf(alice.id)).toBe('100.00');
    expect(receipts.started.at(-1)).toEqual({
      transactionId: body.transaction_id,
      kind: 'refund',
      senderId: bob.id,
      receiverId: alice.id,
      amount: '10.00',
    });
    // The refund: kind refund, refund_of the original; the original: refunded_total.
    expect(await detail(alice, body.transaction_id)).toMatchObject({
      kind: 'refund',
      direction: 'received',
      counterparty_id: bob.id,
      refund_of: id,
      refunded_total: null,
    });
    expect(await detail(bob, id)).toMatchObject({
      kind: 'transfer',
      refund_of: null,
      refunded_total: '10.00',
    });
    const history = (
      await app.inject({ url: '/api/wallet/transactions/', headers: { authorization: alice.auth } })
    ).json();
    expect(history.transactions[0]).toMatchObject({ id: body.transaction_id, kind: 'refund', refund_of: id });
    expect(history.transactions[1]).toMatchObject({ id, refunded_total: '10.00' });
  });

  it('refunds in parts, as often as wanted, and no further than the original', async () => {
    const { bob, id } = await paid('10.00');
    const first = await postJson(app, refundUrl(id), bob.auth, { amount: '3.5' });
    expect(first.json()).toMatchObject({
      amount: '3.50',
      refunded_total: '3.50',
      refundable_remaining: '6.50',
    });
    const second = await postJson(app, refundUrl(id), bob.auth, { amount: '6.00' });
    expect(second.json()).toMatchObject({
      refunded_total: '9.50',
      refundable_remaining: '0.50',
      balance: '0.50',
    });
    const over = await postJson(app, refundUrl(id), bob.auth, { amount: '0.51' });
    expect(over.statusCode).toBe(422);
    expect(errorOf(over)).toEqual({
      code: 'refund_exceeds_original',
      error: 'The refund is more than what is left of the transaction (0.50 left)',
    });
    const rest = await postJson(app, refundUrl(id), bob.auth, null);
    expect(rest.json()).toMatchObject({ amount: '0.50', refundable_remaining: '0.00' });
    const none = await postJson(app, refundUrl(id), bob.auth, {});
    expect(errorOf(none).code).toBe('refund_exceeds_original');
  });

  it('replays the same Idempotency-Key with the same answer and moves no money twice', async () => {
    const { alice, bob, id } = await paid('10.00');
    const key = { 'idempotency-key': `refund-${id}` };
    const first = await postJson(app, refundUrl(id), bob.auth, { amount: '4.00' }, key);
    const starts = receipts.started.length;
    const again = await postJson(app, refundUrl(id), bob.auth, { amount: '4.00' }, key);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(receipts.started.length).toBe(starts); // no second receipt start
    expect(await ctx.balanceOf(alice.id)).toBe('94.00');
    const other = await postJson(app, refundUrl(id), bob.auth, { amount: '5.00' }, key);
    expect(other.statusCode).toBe(422);
    expect(errorOf(other).code).toBe('idempotency_key_reused');
  });

  it('answers 403 to the original sender, 404 to a stranger and for no such transaction', async () => {
    const { alice, id } = await paid();
    const mallory = await ctx.user('mallory', '5.00');
    const bySender = await postJson(app, refundUrl(id), alice.auth, {});
    expect(bySender.statusCode).toBe(403);
    expect(errorOf(bySender).code).toBe('not_original_receiver');
    const byStranger = await postJson(app, refundUrl(id), mallory.auth, {});
    expect(byStranger.statusCode).toBe(404);
    expect(errorOf(byStranger).code).toBe('not_found');
    const missing = await postJson(app, refundUrl(999_999_999), mallory.auth, {});
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing).code).toBe('not_found');
  });

  it('refuses deposits and refunds as not_refundable', async () => {
    const { alice, bob, id } = await paid();
    const deposit = await postJson(app, '/api/wallet/deposit/', bob.auth, { amount: '1.00' });
    const ofDeposit = await postJson(app, refundUrl(deposit.json().transaction_id), bob.auth, {});
    expect(ofDeposit.statusCode).toBe(422);
    expect(errorOf(ofDeposit).code).toBe('not_refundable');
    const refund = await postJson(app, refundUrl(id), bob.auth, { amount: '1.00' });
    const ofRefund = await postJson(app, refundUrl(refund.json().transaction_id), alice.auth, {});
    expect(ofRefund.statusCode).toBe(422);
    expect(errorOf(ofRefund).code).toBe('not_refundable');
  });

  it('answers insufficient_funds when the receiver has spent the money', async () => {
    const { bob, id } = await paid('10.00');
    const carol = await ctx.user('carol');
    await postJson(app, '/api/wallet/transfer/', bob.auth, { receiver_id: carol.id, amount: '8.00' });
    const res = await postJson(app, refundUrl(id), bob.auth, { amount: '5.00' });
    expect(res.statusCode).toBe(422);
    expect(errorOf(res)).toEqual({ code: 'insufficient_funds', error: 'Insufficient funds' });
  });

  it('rejects a bad amount, an unknown field and a bad id with 400', async () => {
    const { bob, id } = await paid();
    for (const body of [{ amount: '0.001' }, { amount: 5 }, { amount: '0' }, { amount: '1', extra: 1 }]) {
      const res = await postJson(app, refundUrl(id), bob.auth, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(errorOf(res).code).toBe('validation_error');
    }
    const badId = await postJson(app, '/api/wallet/transactions/abc/refund/', bob.auth, {});
    expect(badId.statusCode).toBe(400);
  });
});
