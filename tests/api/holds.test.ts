// The holds endpoints through app.inject(): every status and code they answer, on a real PostgreSQL.
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

describe('POST /api/wallet/holds/', () => {
  it('reserves money: 201 with the hold, and the balance shows it as not available', async () => {
    const [s, r] = await pair();
    const res = await place(s, { receiver_id: r.id, amount: '30', expires_in_seconds: 3600 });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      hold_id: expect.any(Number),
      status: 'open',
      amount: '30.00',
      receiver_id: r.id,
      expires_at: expect.any(String),
      available_balance: '70.00',
    });
    const seconds = (Date.parse(body.expires_at) - Date.now()) / 1000;
    expect(seconds).toBeGreaterThan(3500);
    expect(seconds).toBeLessThanOrEqual(3600);
    expect((await get(s, '/api/wallet/balance/')).json()).toMatchObject({
      balance: '100.00',
      available: '70.00',
    });
    const transfer = await postJson(app, '/api/wallet/transfer/', s.auth, {
      receiver_id: r.id,
      amount: '70.01',
    });
    expect([transfer.statusCode, errorOf(transfer)]).toEqual([
      422,
      { error: 'Insufficient funds', code: 'insufficient_funds' },
    ]);
  });

  it('defaults to 7 days, and replays a key with Idempotent-Replayed; another body with it is 422', async () => {
    const [s, r] = await pair();
    const first = await place(s, { receiver_id: r.id, amount: '10' }, { 'idempotency-key': 'h-1' });
    const days = (Date.parse(first.json().expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    const again = await place(s, { receiver_id: r.id, amount: '10.00' }, { 'idempotency-key': 'h-1' });
    expect([again.statusCode, again.headers['idempotent-replayed'], again.json()]).toEqual([
      201,
      'true',
      first.json(),
    ]);
    const other = await place(s, { receiver_id: r.id, amount: '11' }, { 'idempotency-key': 'h-1' });
    expect([other.statusCode, errorOf(other).code]).toEqual([422, 'idempotency_key_reused']);
    expect((await get(s, '/api/wallet/balance/')).json().available).toBe('90.00');
  });

  it.each([
    [{ receiver_id: 2, amount: '1', expires_in_seconds: 0 }, 'expires_in_seconds'],
    [{ receiver_id: 2, amount: '1', expires_in_seconds: 7_776_001 }, 'expires_in_seconds'],
    [{ receiver_id: 2, amount: '1', expires_in_seconds: 1.5 }, 'expires_in_seconds'],
    [{ receiver_id: 2, amount: '1', expires_in_seconds: '60' }, 'expires_in_seconds'],
    [{ receiver_id: 2, amount: 1 }, 'amount'],
    [{ receiver_id: 2, amount: '1.001' }, 'amount'],
    [{ amount: '1' }, 'receiver_id'],
    [{ receiver_id: 2, amount: '1', note: 'x' }, 'note'],
  ])('400 validation_error for %j', async (body, field) => {
    const [s] = await pair();
    const res = await place(s, body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'validation_error',
      details: [expect.objectContaining({ field })],
    });
  });

  it('names the bounds of expires_in_seconds, and answers 404, 422 same_wallet and insufficient_funds', async () => {
    const [s, r] = await pair();
    expect(errorOf(await place(s, { receiver_id: r.id, amount: '1', expires_in_seconds: 0 })).error).toBe(
      'expires_in_seconds must be an integer from 1 to 7776000 (90 days)',
    );
    const missing = await place(s, { receiver_id: 99_999_999, amount: '1' });
    expect([missing.statusCode, errorOf(missing).code]).toEqual([404, 'receiver_not_found']);
    const self = await place(s, { receiver_id: s.id, amount: '1' });
    expect([self.statusCode, errorOf(self).code]).toEqual([422, 'same_wallet']);
    const poor = await place(s, { receiver_id: r.id, amount: '100.01' });
    expect([poor.statusCode, errorOf(poor)]).toEqual([
      422,
      { error: 'Insufficient funds', code: 'insufficient_funds' },
    ]);
  });
});

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
    await new Promise((resolve) => setTimeout(resolve, Date.parse(placed.expires_at) - Date.now() + 5));
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

describe('GET /api/wallet/holds/', () => {
  it('lists the holds a user placed or may capture, newest first, by status, a page at a time', async () => {
    const [s, r] = await pair();
    const ids: number[] = [];
    for (const amount of ['1', '2', '3', '4'])
      ids.push((await place(s, { receiver_id: r.id, amount })).json().hold_id);
    await release(r, ids[0] as number);
    await capture(r, ids[1] as number);
    const page1 = (await get(r, '/api/wallet/holds/?limit=3')).json();
    expect(page1.holds.map((h: { hold_id: number }) => h.hold_id)).toEqual([ids[3], ids[2], ids[1]]);
    expect(page1.next_before).toBe(ids[1]);
    const page2 = (await get(r, `/api/wallet/holds/?limit=3&before=${page1.next_before}`)).json();
    expect(page2).toMatchObject({ holds: [{ hold_id: ids[0], status: 'released' }], next_before: null });
    const open = (await get(s, '/api/wallet/holds/?status=open')).json().holds;
    expect(open.map((h: { hold_id: number }) => h.hold_id)).toEqual([ids[3], ids[2]]);
    const captured = (await get(s, '/api/wallet/holds/?status=captured')).json().holds;
    expect(captured).toEqual([
      expect.objectContaining({
        hold_id: ids[1],
        sender_id: s.id,
        receiver_id: r.id,
        amount: '2.00',
        captured_amount: '2.00',
      }),
    ]);
    const one = (await get(s, `/api/wallet/holds/${ids[2]}/`)).json();
    expect(one).toMatchObject({
      hold_id: ids[2],
      status: 'open',
      captured_amount: null,
      transaction_id: null,
      closed_at: null,
    });
  });
});
