// Balance and deposit.
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

const deposit = (
  target: FastifyInstance,
  auth: string,
  body: unknown,
  headers: Record<string, string> = {},
) => postJson(target, '/api/wallet/deposit/', auth, body, headers);

describe('balance', () => {
  it("answers the caller's id, name and balance as a two-decimal string", async () => {
    const john = await ctx.user('john', '100');
    for (const url of ['/api/wallet/balance/', '/api/wallet/balance']) {
      const res = await app.inject({ url, headers: { authorization: john.auth } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        user_id: john.id,
        username: john.username,
        balance: '100.00',
        available: '100.00',
      });
    }
  });

  it('shows 0.00 for a new wallet', async () => {
    const u = await ctx.user('new');
    const res = await app.inject({ url: '/api/wallet/balance/', headers: { authorization: u.auth } });
    expect(res.json().balance).toBe('0.00');
  });
});

describe('deposit', () => {
  it('adds money and answers as the contract says, and starts the receipt', async () => {
    const u = await ctx.user('dep', '50.00');
    const res = await deposit(app, u.auth, { amount: '100.00' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      message: 'Deposit successful',
      transaction_id: expect.any(Number),
      balance: '150.00',
      amount: '100.00',
    });
    expect(receipts.started).toContainEqual({
      transactionId: res.json().transaction_id,
      kind: 'deposit',
      senderId: null,
      receiverId: u.id,
      amount: '100.00',
    });
  });

  it('replays with Idempotent-Replayed and deposits once; another amount with the key is 422', async () => {
    const u = await ctx.user('dep');
    const first = await deposit(app, u.auth, { amount: '5' }, { 'idempotency-key': 'dep-1' });
    const again = await deposit(app, u.auth, { amount: '5.00' }, { 'idempotency-key': 'dep-1' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const other = await deposit(app, u.auth, { amount: '6' }, { 'idempotency-key': 'dep-1' });
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('idempotency_key_reused');
    expect(await ctx.balanceOf(u.id)).toBe('5.00');
  });

  it('422 balance_limit_exceeded past the maximum balance', async () => {
    const u = await ctx.user('full');
    await ctx.db.admin.query('UPDATE wallet.wallets SET balance = 999999999999999999.00 WHERE user_id = $1', [
      u.id,
    ]);
    const res = await deposit(app, u.auth, { amount: '1.00' });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('balance_limit_exceeded');
  });

  it('403 deposits_disabled when the setting is off, even for a bad body, and nothing moves', async () => {
    const off = await ctx.build({ depositsEnabled: false });
    const u = await ctx.user('dep');
    for (const body of [{ amount: '1.00' }, { amount: 'bad' }]) {
      const res = await deposit(off, u.auth, body);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ error: 'Deposits are disabled', code: 'deposits_disabled' });
    }
    expect(await ctx.balanceOf(u.id)).toBe('0.00');
    // Authentication still comes first.
    const anonymous = await off.inject({
      method: 'POST',
      url: '/api/wallet/deposit/',
      payload: { amount: '1' },
    });
    expect(anonymous.statusCode).toBe(401);
  });
});
