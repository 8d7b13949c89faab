// POST /api/wallet/transfer/batch/: the happy path, every failure naming its item and moving nothing,
// the size limits, idempotency, and the OpenAPI document.
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

const URL = '/api/wallet/transfer/batch/';
const send = (auth: string, transfers: unknown, headers: Record<string, string> = {}) =>
  postJson(app, URL, auth, { transfers }, headers);

describe('batch transfer', () => {
  it('moves every item in one commit, answers as the contract says, and leaves the receipts to one batch workflow', async () => {
    const boss = await ctx.user('boss', '100.00');
    const ann = await ctx.user('ann');
    const ben = await ctx.user('ben');
    const res = await send(boss.auth, [
      { receiver_id: ann.id, amount: '10' },
      { receiver_id: ben.id, amount: '2.5' },
      { receiver_id: ann.id, amount: '0.01' },
    ]);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    const item = (receiver: number, amount: string) => ({
      transaction_id: expect.any(Number),
      receiver_id: receiver,
      amount,
      receipt: {
        status: 'pending',
        url: expect.stringMatching(/^\/api\/wallet\/transactions\/\d+\/receipt$/),
      },
    });
    expect(body).toEqual({
      message: 'Batch transfer successful',
      sender_balance: '87.49',
      transfers: [item(ann.id, '10.00'), item(ben.id, '2.50'), item(ann.id, '0.01')],
    });
    expect(await ctx.balanceOf(ann.id)).toBe('10.01');
    expect(await ctx.balanceOf(ben.id)).toBe('2.50');
    const ids = body.transfers.map((t: { transaction_id: number }) => t.transaction_id);
    // No start from the API: the dispatcher starts receipt-batch-<first id> for all three, and finds them
    // unleased (an API's transfer receipts are born leased to it).
    expect(receipts.started).toEqual([]);
    const { rows } = await ctx.db.admin.query(
      'SELECT transaction_id, batch_id, claimed_at FROM wallet.receipts WHERE transaction_id = ANY ($1) ORDER BY 1',
      [ids],
    );
    expect(rows).toEqual(
      ids.map((id: number) => ({ transaction_id: id, batch_id: ids[0], claimed_at: null })),
    );
  });

  it.each([
    [
      'an unknown receiver',
      (ok: number) => [
        { receiver_id: ok, amount: '1' },
        { receiver_id: 999_999, amount: '1' },
      ],
      404,
      'receiver_not_found',
      2,
    ],
    ['the caller as receiver', () => [{ receiver_id: 0, amount: '1' }], 422, 'same_wallet', 1],
    [
      'funds short at item 3',
      (ok: number) => [1, 2, 3].map(() => ({ receiver_id: ok, amount: '4' })),
      422,
      'insufficient_funds',
      3,
    ],
    [
      'a bad amount',
      (ok: number) => [
        { receiver_id: ok, amount: '1' },
        { receiver_id: ok, amount: '1.001' },
      ],
      400,
      'validation_error',
      2,
    ],
    ['a zero amount', (ok: number) => [{ receiver_id: ok, amount: '0.00' }], 400, 'validation_error', 1],
    [
      'a missing field',
      (ok: number) => [{ receiver_id: ok, amount: '1' }, { receiver_id: ok }],
      400,
      'validation_error',
      2,
    ],
    [
      'an unknown field',
      (ok: number) => [{ receiver_id: ok, amount: '1', note: 'x' }],
      400,
      'validation_error',
      1,
    ],
  ] as const)('refuses %s, naming the item, and moves nothing', async (_what, items, status, code, item) => {
    const payer = await ctx.user('payer', '10.00');
    const payee = await ctx.user('payee');
    const transfers = items(payee.id).map((t) => (t.receiver_id === 0 ? { ...t, receiver_id: payer.id } : t));
    const before = await ctx.transactionCount();
    const res = await send(payer.auth, transfers);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ code, item });
    expect(JSON.stringify(res.json())).not.toMatch(/wallet \d|DETAIL|SELECT/);
    expect(await ctx.transactionCount()).toBe(before);
    expect(await ctx.balanceOf(payer.id)).toBe('10.00');
  });

  it.each([
    ['no items', []],
    ['1,001 items', Array.from({ length: 1001 }, () => ({ receiver_id: 1, amount: '0.01' }))],
    ['no array', { receiver_id: 1, amount: '1' }],
  ])('refuses %s with a 400 that names no item', async (_what, transfers) => {
    const payer = await ctx.user('sizer', '100.00');
    const res = await send(payer.auth, transfers);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_error');
    expect(res.json().item).toBeUndefined();
  });

  it('moves 1,000 items in one call', async () => {
    const payer = await ctx.user('payroll', '1000.00');
    const payees = [await ctx.user('p1'), await ctx.user('p2')];
    const transfers = Array.from({ length: 1000 }, (_, i) => ({
      receiver_id: payees[i % 2]?.id,
      amount: '0.99',
    }));
    const res = await send(payer.auth, transfers);
    expect(res.statusCode).toBe(201);
    expect(res.json().transfers).toHaveLength(1000);
    expect(res.json().sender_balance).toBe('10.00');
    expect(await ctx.balanceOf(payees[0]?.id as number)).toBe('495.00');
  });
});

describe('batch idempotency', () => {
  it('replays the same batch with Idempotent-Replayed, and refuses the key for another batch', async () => {
    const payer = await ctx.user('keyed', '100.00');
    const payee = await ctx.user('keyed_to');
    const transfers = [
      { receiver_id: payee.id, amount: '1.00' },
      { receiver_id: payee.id, amount: '2.00' },
    ];
    const headers = { 'idempotency-key': 'payroll-2026-11' };
    const first = await send(payer.auth, transfers, headers);
    expect(first.statusCode).toBe(201);
    const startsBefore = receipts.started.length;
    const again = await send(payer.auth, transfers, headers);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(receipts.started.length).toBe(startsBefore); // a replay starts nothing
    const other = await send(payer.auth, [{ receiver_id: payee.id, amount: '1.00' }], headers);
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('idempotency_key_reused');
    expect(await ctx.balanceOf(payer.id)).toBe('97.00');
  });
});

describe('the OpenAPI document', () => {
  it('describes the batch route, its body and its answers', async () => {
    const doc = (await app.inject('/docs/json')).json();
    const post = doc.paths['/api/wallet/transfer/batch/']?.post;
    expect(post.requestBody.content['application/json'].schema.properties.transfers.maxItems).toBe(1000);
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '400', '404', '409', '422']));
    expect(post.responses['422'].content['application/json'].schema.properties.item).toBeDefined();
  });
});
