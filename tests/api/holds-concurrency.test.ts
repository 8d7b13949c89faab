// Holds over a real socket, with the overlap forced: the sender's wallet row is held until every request is
// waiting on a lock inside the database, then released at once.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiContext, createApiContext, type TestUser } from '../helpers/api.js';
import {
  holdWalletRow,
  lockWaiters,
  sampleWhile,
  waitForLockWaiters,
  waitUntil,
} from '../helpers/row-locks.js';

let ctx: ApiContext;
let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  ctx = await createApiContext();
  app = await ctx.build();
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  expect((await ctx.db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
});

async function post(user: TestUser, path: string, body: unknown, key?: string) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      authorization: user.auth,
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: await res.json() };
}

async function warm(...users: TestUser[]) {
  for (const u of users) await fetch(`${base}/api/wallet/balance/`, { headers: { authorization: u.auth } });
}

/** Sends the requests (at most the pool size, 10) while the wallet row is locked; lets go once all wait. */
async function withWalletHeld<T>(walletId: number, requests: () => Promise<T>[]): Promise<T[]> {
  const holder = await ctx.db.client();
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM wallet.wallets WHERE user_id = $1 FOR UPDATE', [walletId]);
  const running = requests();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await ctx.db.admin.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (rows[0].n >= running.length) break;
    if (Date.now() > deadline) throw new Error(`only ${rows[0].n} of ${running.length} requests are waiting`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await holder.query('COMMIT');
  await holder.end();
  return Promise.all(running);
}

describe('holds over HTTP under contention', () => {
  it('10 simultaneous holds with one Idempotency-Key reserve the money once', async () => {
    const [s, r] = [await ctx.user('hkey', '100.00'), await ctx.user('hkey_to')];
    await warm(s);
    // Forced overlap: the hold that claims the key waits on the held row until the nine others are answered.
    const held = await holdWalletRow(await ctx.db.client(), s.id);
    let answered = 0;
    const racing = Promise.all(
      Array.from({ length: 10 }, () =>
        post(s, '/api/wallet/holds/', { receiver_id: r.id, amount: '60' }, 'one-key').finally(() => {
          answered++;
        }),
      ),
    );
    await waitForLockWaiters(ctx.db.admin, 1, '%wallet.hold(%');
    await waitUntil(() => answered === 9, 'nine holds are answered while the tenth holds the key');
    expect(await lockWaiters(ctx.db.admin, '%wallet.hold(%')).toBe(1);
    await held.release();
    const results = await racing;
    const fresh = results.filter((x) => x.status === 201 && x.replayed === null);
    const busy = results.filter((x) => x.status === 409);
    expect(fresh).toHaveLength(1);
    expect(busy).toHaveLength(9);
    for (const x of busy) expect(x.body.code).toBe('idempotency_key_in_use');
    const again = await post(s, '/api/wallet/holds/', { receiver_id: r.id, amount: '60' }, 'one-key');
    expect([again.status, again.replayed, again.body]).toEqual([201, 'true', fresh[0]?.body]);
    const balance = await (
      await fetch(`${base}/api/wallet/balance/`, { headers: { authorization: s.auth } })
    ).json();
    expect(balance).toMatchObject({ balance: '100.00', available: '40.00' });
  });

  it('the receiver fires 5 captures and 5 releases at once: one wins, the rest are told which', async () => {
    const [s, r] = [await ctx.user('settle', '50.00'), await ctx.user('settle_to')];
    await warm(r);
    const id = (await post(s, '/api/wallet/holds/', { receiver_id: r.id, amount: '50' })).body.hold_id;
    const results = await withWalletHeld(s.id, () =>
      Array.from({ length: 10 }, (_, i) =>
        post(r, `/api/wallet/holds/${id}/${i % 2 ? 'capture' : 'release'}/`, {}),
      ),
    );
    const won = results.filter((x) => x.status === 201 || x.status === 200);
    expect(won).toHaveLength(1);
    const outcome = won[0]?.status === 201 ? 'captured' : 'released';
    for (const x of results.filter((y) => !won.includes(y))) {
      expect([x.status, x.body]).toEqual([
        422,
        { error: `The hold is already ${outcome}`, code: 'hold_closed' },
      ]);
    }
    expect(await ctx.balanceOf(s.id)).toBe(outcome === 'captured' ? '0.00' : '50.00');
  });

  it('holds and transfers race for the last 10.00: exactly one gets it, available never negative', async () => {
    const s = await ctx.user('last', '10.00');
    const receivers = await Promise.all(Array.from({ length: 10 }, () => ctx.user('last_to')));
    await warm(s);
    // Available is read back to back (balance - held, as of each read) from before the row is let go until
    // the last request is answered: never below zero at any moment seen, not only at the end.
    const { result: results, samples } = await sampleWhile(
      withWalletHeld(s.id, () =>
        receivers.map((r, i) =>
          post(s, i % 2 ? '/api/wallet/holds/' : '/api/wallet/transfer/', {
            receiver_id: r.id,
            amount: '10.00',
          }),
        ),
      ),
      async () =>
        (await ctx.db.admin.query('SELECT available::text AS a FROM wallet.balance($1)', [s.id])).rows[0]
          .a as string,
    );
    console.log(`[holds-concurrency] ${samples.length} samples of available during the race`);
    expect(samples.length).toBeGreaterThan(0);
    for (const a of samples) expect(a.startsWith('-'), `available ${a}`).toBe(false);
    expect(results.filter((x) => x.status === 201)).toHaveLength(1);
    for (const x of results.filter((y) => y.status !== 201)) {
      expect([x.status, x.body.code]).toEqual([422, 'insufficient_funds']);
    }
    const balance = await (
      await fetch(`${base}/api/wallet/balance/`, { headers: { authorization: s.auth } })
    ).json();
    expect(balance.available).toBe('0.00');
  });
});
