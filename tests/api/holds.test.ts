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

/** The database's clock, as text: microseconds kept (a JS Date drops them), the test machine's clock unused. */
const databaseNow = async () =>
  (await ctx.db.admin.query('SELECT clock_timestamp()::text AS t')).rows[0].t as string;

/**
 * The hold expires `seconds` after a moment of the database's clock within [from, to] (taken around the
 * request), after its own created_at (the now() of its transaction), and the API answered that expires_at
 * (to the millisecond its JSON keeps).
 */
async function expectExpiry(holdId: number, answered: string, seconds: number, from: string, to: string) {
  const { rows } = await ctx.db.admin.query(
    `SELECT h.expires_at - make_interval(secs => $2) BETWEEN $3::timestamptz AND $4::timestamptz AS in_window,
            h.expires_at - make_interval(secs => $2) >= h.created_at AS after_created,
            abs(extract(epoch FROM h.expires_at - $5::timestamptz)) < 0.001 AS as_answered
       FROM wallet.holds h WHERE h.id = $1`,
    [holdId, seconds, from, to, answered],
  );
  expect(rows[0]).toEqual({ in_window: true, after_created: true, as_answered: true });
}

describe('POST /api/wallet/holds/', () => {
  it('reserves money: 201 with the hold, and the balance shows it as not available', async () => {
    const [s, r] = await pair();
    const from = await databaseNow();
    const res = await place(s, { receiver_id: r.id, amount: '30', expires_in_seconds: 3600 });
    const to = await databaseNow();
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
    await expectExpiry(body.hold_id, body.expires_at, 3600, from, to);
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
    const from = await databaseNow();
    const first = await place(s, { receiver_id: r.id, amount: '10' }, { 'idempotency-key': 'h-1' });
    const to = await databaseNow();
    await expectExpiry(first.json().hold_id, first.json().expires_at, 7 * 86_400, from, to);
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
