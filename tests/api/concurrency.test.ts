// Over a real socket: the seed's double spend, idempotency races, and a shutdown that finishes in-flight work.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiContext, createApiContext, type TestUser } from '../helpers/api.js';
import { holdWalletRow, lockWaiters, waitForLockWaiters, waitUntil } from '../helpers/row-locks.js';

let ctx: ApiContext;
let app: FastifyInstance;
let base: string;
const API_POOL_SIZE = 10; // createApiContext's pool

/** Deadlocks PostgreSQL detected in this database; the route retries 40P01 silently, so only this shows one. */
async function deadlocks(): Promise<number> {
  // A backend reports its counters when idle, and may hold them back for up to 10 s: make every app
  // connection report now (the check-out of all of them at once reaches each).
  const all = await Promise.all(Array.from({ length: API_POOL_SIZE }, () => ctx.pool.connect()));
  try {
    for (const client of all) await client.query('SELECT pg_stat_force_next_flush()');
  } finally {
    for (const client of all) client.release();
  }
  const { rows } = await ctx.db.admin.query(
    'SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return rows[0].n;
}

beforeAll(async () => {
  ctx = await createApiContext();
  // Superuser-only by default; granted in this test database alone, for deadlocks() below.
  await ctx.db.admin.query('GRANT EXECUTE ON FUNCTION pg_stat_force_next_flush() TO wallet_app');
  app = await ctx.build();
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  const { rows } = await ctx.db.admin.query('SELECT * FROM wallet.audit()');
  expect(rows).toEqual([]); // the books balance after everything this file did
});

async function transfer(url: string, from: TestUser, receiverId: number, amount: string, key?: string) {
  const res = await fetch(`${url}/api/wallet/transfer/`, {
    method: 'POST',
    headers: {
      authorization: from.auth,
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify({ receiver_id: receiverId, amount }),
  });
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: await res.json() };
}

describe('double spend through HTTP', () => {
  it.each([2, 50])(
    'a wallet with 10.00 fires %i simultaneous 10.00 transfers: exactly one succeeds',
    async (n) => {
      const sender = await ctx.user('spender', '10.00');
      const receivers = await Promise.all(Array.from({ length: n }, () => ctx.user('payee')));
      // Warm the credential cache, hold the sender's row until the requests wait on it inside the database
      // (as many as the pool has connections: the rest queue for one), then let them race.
      await fetch(`${base}/api/wallet/balance/`, { headers: { authorization: sender.auth } });
      const held = await holdWalletRow(await ctx.db.client(), sender.id);
      const racing = Promise.all(receivers.map((r) => transfer(base, sender, r.id, '10.00')));
      await waitForLockWaiters(ctx.db.admin, Math.min(n, API_POOL_SIZE));
      await held.release();
      const results = await racing;
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 422)).toHaveLength(n - 1);
      for (const r of results.filter((x) => x.status === 422)) {
        expect(r.body).toEqual({ error: 'Insufficient funds', code: 'insufficient_funds' });
      }
      expect(results.find((r) => r.status === 201)?.body.sender_balance).toBe('0.00');
      expect(await ctx.balanceOf(sender.id)).toBe('0.00');
      const credited = await Promise.all(receivers.map((r) => ctx.balanceOf(r.id)));
      expect(credited.filter((b) => b === '10.00')).toHaveLength(1);
    },
  );
});

describe('idempotency races', () => {
  it('10 simultaneous requests with one key move money once; the others, overlapping it, get 409', async () => {
    const sender = await ctx.user('racer', '100.00');
    const receiver = await ctx.user('racee');
    await fetch(`${base}/api/wallet/balance/`, { headers: { authorization: sender.auth } });
    // The overlap is forced: with the sender's row held, the request that claims the key waits on the row
    // (holding the key) until all nine others have been answered; only then does it go on.
    const held = await holdWalletRow(await ctx.db.client(), sender.id);
    let answered = 0;
    const racing = Promise.all(
      Array.from({ length: 10 }, () =>
        transfer(base, sender, receiver.id, '25.00', 'race-key').finally(() => {
          answered++;
        }),
      ),
    );
    await waitForLockWaiters(ctx.db.admin, 1);
    await waitUntil(() => answered === 9, 'nine requests are answered while the tenth holds the key');
    expect(await lockWaiters(ctx.db.admin, '%wallet.transfer(%')).toBe(1);
    await held.release();
    const results = await racing;
    const fresh = results.filter((r) => r.status === 201 && r.replayed === null);
    const busy = results.filter((r) => r.status === 409);
    expect(fresh).toHaveLength(1);
    expect(busy).toHaveLength(9);
    for (const r of busy) expect(r.body.code).toBe('idempotency_key_in_use');
    expect(await ctx.balanceOf(sender.id)).toBe('75.00');
    expect(await ctx.balanceOf(receiver.id)).toBe('25.00');
    // Once the dust settles, a retry is a replay.
    const retry = await transfer(base, sender, receiver.id, '25.00', 'race-key');
    expect([retry.status, retry.replayed]).toEqual([201, 'true']);
  });

  it('transfers in both directions at once never deadlock and keep the books', async () => {
    const [a, b] = [await ctx.user('ping', '50.00'), await ctx.user('pong', '50.00')];
    const deadlocksBefore = await deadlocks();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 ? transfer(base, a, b.id, '1.00') : transfer(base, b, a.id, '1.00'),
      ),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect([await ctx.balanceOf(a.id), await ctx.balanceOf(b.id)]).toEqual(['50.00', '50.00']);
    expect(await deadlocks()).toBe(deadlocksBefore);
  });
});

describe('graceful shutdown', () => {
  it('finishes the in-flight request, then stops accepting connections', async () => {
    const own = await ctx.build();
    await own.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(own.server.address() as { port: number }).port}`;
    const [a, b] = [await ctx.user('inflight', '10.00'), await ctx.user('inflight')];
    await fetch(`${url}/api/wallet/balance/`, { headers: { authorization: a.auth } });
    // Hold the sender's wallet row, so the transfer waits inside the database.
    const held = await holdWalletRow(await ctx.db.client(), a.id);
    const inflight = transfer(url, a, b.id, '4.00');
    await waitForLockWaiters(ctx.db.admin, 1);
    const closing = own.close();
    await waitFor(async () => !own.server.listening);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    await held.release();
    const done = await inflight;
    expect(done.status).toBe(201);
    await closing;
    expect(await ctx.balanceOf(a.id)).toBe('6.00');
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
