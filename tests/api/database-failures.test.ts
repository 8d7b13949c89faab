// The database failures the error mapper turns into 503, each produced by a real PostgreSQL rather than a
// fabricated error: the API answers 503 with Retry-After and the fixed body, and the log shows the real cause.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type PoolOptions } from '../../src/db/pool.js';
import { type ApiContext, captureLogs, createApiContext, postJson } from '../helpers/api.js';
import { holdWalletRow, waitForLockWaiters } from '../helpers/row-locks.js';
import { databaseProxy } from '../helpers/tcp-proxy.js';

let ctx: ApiContext;
const pools: pg.Pool[] = [];
const LIMITED_ROLE = `wallet_limited_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  ctx = await createApiContext();
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await ctx.db.admin.query(`DROP ROLE IF EXISTS ${LIMITED_ROLE}`);
});

/** An app on its own pool, logging warnings into `lines`; `a` can pay `b` 1.00 (credentials cached). */
async function appOn(options: Partial<PoolOptions>, warm = true) {
  const pool = createPool({ url: ctx.db.url, role: 'wallet_app', startsReceiptWorkflows: true, ...options });
  pool.on('error', () => undefined); // connections killed on purpose below
  pools.push(pool);
  const { stream, lines } = captureLogs();
  const app = await ctx.build({ pool, logger: { level: 'warn', stream } });
  const [a, b] = [await ctx.user('payer', '10.00'), await ctx.user('payee')];
  const pay = () => postJson(app, '/api/wallet/transfer/', a.auth, { receiver_id: b.id, amount: '1.00' });
  if (warm)
    expect(
      (await app.inject({ url: '/api/wallet/balance/', headers: { authorization: a.auth } })).statusCode,
    ).toBe(200);
  return { app, pool, a, b, pay, lines };
}

/** The 503 every one of these failures must give; returns the error the API logged as its cause. */
function expectUnavailable(res: Awaited<ReturnType<FastifyInstance['inject']>>, lines: string[]) {
  expect(res.statusCode).toBe(503);
  expect(res.headers['retry-after']).toBe('2');
  expect(res.json()).toEqual({
    error: 'The service is temporarily unavailable; retry shortly',
    code: 'unavailable',
  });
  // The first error logged is the cause: the credential check logs its own before it answers 503.
  const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.err);
  expect(logged.map((l) => l.msg)).toContain('request failed');
  return logged[0].err as { code?: string; message: string };
}

/** Holds the payer's wallet row, starts the transfer and waits until it waits on that lock in the database. */
async function transferStuckOnLock(scenario: Awaited<ReturnType<typeof appOn>>) {
  const held = await holdWalletRow(await ctx.db.client(), scenario.a.id);
  const response = scenario.pay();
  await waitForLockWaiters(ctx.db.admin, 1);
  return { held, response };
}

describe('a real PostgreSQL failing', () => {
  it('no free connection within the pool timeout (a pool of 1, its client held)', async () => {
    const scenario = await appOn({ max: 1 });
    const taken = await scenario.pool.connect();
    const err = expectUnavailable(await scenario.pay(), scenario.lines);
    taken.release();
    expect(err.message).toMatch(/timeout exceeded when trying to connect/);
    expect(await ctx.balanceOf(scenario.a.id)).toBe('10.00');
  });

  it('statement_timeout (57014, as server.ts sets it) behind a held row lock', async () => {
    const scenario = await appOn({ statementTimeoutMs: 300 });
    const held = await holdWalletRow(await ctx.db.client(), scenario.a.id);
    const res = await scenario.pay();
    await held.release();
    expect(expectUnavailable(res, scenario.lines).code).toBe('57014');
    expect(await ctx.balanceOf(scenario.a.id)).toBe('10.00');
  });

  it('pg_terminate_backend on a waiting transfer (57P01)', async () => {
    const scenario = await appOn({});
    const { held, response } = await transferStuckOnLock(scenario);
    const { rows } = await ctx.db.admin.query(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%wallet.transfer(%'`,
    );
    expect(rows).toEqual([{ done: true }]);
    const res = await response;
    await held.release();
    expect(expectUnavailable(res, scenario.lines).code).toBe('57P01');
    expect(await ctx.balanceOf(scenario.a.id)).toBe('10.00');
  });

  it('too many connections (53300): a login role with CONNECTION LIMIT 0', async () => {
    await ctx.db.admin.query(`CREATE ROLE ${LIMITED_ROLE} LOGIN PASSWORD 'limited' CONNECTION LIMIT 0`);
    const url = new URL(ctx.db.url);
    [url.username, url.password] = [LIMITED_ROLE, 'limited'];
    // No connection at all, so the credential check is the call that fails: the same mapper answers.
    const scenario = await appOn({ url: url.toString(), role: undefined }, false);
    const res = await scenario.pay();
    expect(expectUnavailable(res, scenario.lines).code).toBe('53300');
  });

  it('a connection killed mid-query (what libpq calls 08006)', async () => {
    // PostgreSQL never sends 08006 (connection_failure): a client library reports it when the socket
    // breaks. node-postgres reports that event as "Connection terminated unexpectedly", without a code;
    // so the real failure is a connection cut while the transfer waits in the database.
    const proxy = await databaseProxy(new URL(ctx.db.url));
    const scenario = await appOn({ url: proxy.url });
    const { held, response } = await transferStuckOnLock(scenario);
    await proxy.down();
    const res = await response;
    await held.release();
    expect(expectUnavailable(res, scenario.lines).message).toMatch(/Connection terminated/);
  });
});
