// Capturing and releasing holds through app.inject(): every status and code, on a real PostgreSQL.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiContext,
  createApiContext,
  errorOf,
  FakeReceipts,
  postJson,
  type TestUser,
} from '../helpers/api.js';
import { waitPastExpiry } from '../helpers/holds.js';

let ctx: ApiContext;
let app: FastifyInstance;
let receipts: FakeReceipts;
beforeAll(async () => {
  ctx = await createApiContext();
  receipts = new FakeReceipts();
  app = await ctx.build({ receipts });
});
afterAll(async () => {
  expect((await ctx.db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
});

const place = (from: TestUser, body: unknown, headers: Record<string, string> = {}) =>
  postJson(app, '/api/wallet/holds/', from.auth, body, headers);
const capture = (who: TestUser, id: number, body: unknown = {}, headers: Record<string, string> = {}) =>
  postJson(app, `/api/wallet/holds/${id}/capture/`, who.auth, body, headers);
const release = (who: TestUser, id: number) =>
  app.inject({
    method: 'POST',
    url: `/api/wallet/holds/${id}/release/`,
    headers: { authorization: who.auth },
  });
const get = (who: TestUser, url: string) => app.inject({ url, headers: { authorization: who.auth } });
const pair = async () => [await ctx.user('sender', '100.00'), await ctx.user('receiver')] as const;

describe('capture and release', () => {
  it('the receiver captures part: 201 with the transaction, amounts and receipt; the rest is released', async () => {
    const [s, r] = await pair();
    const id = (await place(s, { receiver_id: r.id, amount: '40' })).json().hold_id;
    const res = await capture(r, id, { amount: '25.50' }, { 'idempotency-key': 'c-1' });
    expect(res.statusCode).toBe(201);
    const tx = res.json().transaction_id;
    expect(res.json()).toEqual({
      message: 'Capture successful',
      hold_id: id,
      status: 'captured',
      transaction_id: expect.any(Number),
      amount: '25.50',
      released_amount: '14.50',
      receiver_balance: '25.50',
      receipt: { status: 'pending', url: `/api/wallet/transactions/${tx}/receipt` },
    });
    expect(receipts.started).toContainEqual({
      transactionId: tx,
      kind: 'capture',
      senderId: s.id,
      receiverId: r.id,
      amount: '25.50',
    });
    const again = await capture(r, id, { amount: '25.50' }, { 'idempotency-key': 'c-1' });
    expect([again.statusCode, again.headers['idempotent-replayed'], again.json()]).toEqual([
      201,
      'true',
      res.json(),
    ]);
    expect((await get(s, '/api/wallet/balance/')).json()).toMatchObject({
      balance: '74.50',
      available: '74.50',
    });
    const history = (await get(r, '/api/wallet/transactions/')).json().transactions;
    expect(history[0]).toMatchObject({
      id: tx,
      kind: 'capture',
      direction: 'received',
      counterparty_id: s.id,
    });
    const closed = await capture(r, id);
    expect([closed.statusCode, errorOf(closed)]).toEqual([
      422,
      { error: 'The hold is already captured', code: 'hold_closed' },
    ]);
  });

  it('captures all of it with no body, and says 422 capture_exceeds_hold for more', async () => {
    const [s, r] = await pair();
    const id = (await place(s, { receiver_id: r.id, amount: '5' })).json().hold_id;
    const over = await capture(r, id, { amount: '5.01' });
    expect([over.statusCode, errorOf(over).code]).toEqual([422, 'capture_exceeds_hold']);
    const res = await app.inject({
      method: 'POST',
      url: `/api/wallet/holds/${id}/capture`,
      headers: { authorization: r.auth },
    });
    expect([res.statusCode, res.json().amount, res.json().released_amount]).toEqual([201, '5.00', '0.00']);
  });

  it('only the receiver settles: the sender gets 403, anyone else 404, and the receiver may release', async () => {
    const [s, r] = await pair();
    const outsider = await ctx.user('outsider');
    const id = (await place(s, { receiver_id: r.id, amount: '5' })).json().hold_id;
    for (const res of [await capture(s, id), await release(s, id)]) {
      expect([res.statusCode, errorOf(res).code]).toEqual([403, 'not_hold_receiver']);
    }
    for (const res of [
      await capture(outsider, id),
      await release(outsider, id),
      await get(outsider, `/api/wallet/holds/${id}/`),
    ]) {
      expect([res.statusCode, errorOf(res)]).toEqual([
        404,
        { error: 'Hold not found', code: 'hold_not_found' },
      ]);
    }
    const res = await release(r, id);
    expect([res.statusCode, res.json()]).toEqual([200, { hold_id: id, status: 'released' }]);
    const twice = await release(r, id);
    expect([twice.statusCode, errorOf(twice).error]).toEqual([422, 'The hold is already released']);
    expect((await get(s, '/api/wallet/balance/')).json().available).toBe('100.00');
  });

  it('after expiry: 422 hold_closed says expired, and the money is spendable at once', async () => {
    const [s, r] = await pair();
    const placed = (await place(s, { receiver_id: r.id, amount: '100', expires_in_seconds: 1 })).json();
    await waitPastExpiry(ctx.db.admin, placed.hold_id);
    expect((await get(s, `/api/wallet/holds/${placed.hold_id}/`)).json().status).toBe('expired');
    const res = await capture(r, placed.hold_id);
    expect([res.statusCode, errorOf(res).error]).toEqual([422, 'The hold is already expired']);
    const spent = await postJson(app, '/api/wallet/transfer/', s.auth, { receiver_id: r.id, amount: '100' });
    expect(spent.statusCode).toBe(201);
  });

  it.each([
    '/api/wallet/holds/0/',
    '/api/wallet/holds/x/capture/',
    '/api/wallet/holds/?status=pending',
    '/api/wallet/holds/?limit=0',
  ])('400 validation_error for %s', async (url) => {
    const [s] = await pair();
    const res = await app.inject({
      method: url.includes('capture') ? 'POST' : 'GET',
      url,
      headers: { authorization: s.auth },
    });
    expect([res.statusCode, errorOf(res).code]).toEqual([400, 'validation_error']);
  });

  it('answers 401 without credentials', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/wallet/holds/1/release/' });
    expect(res.statusCode).toBe(401);
  });
});
