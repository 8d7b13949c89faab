// The database or Temporal away: the API answers 503 (database) or carries on with receipts pending (Temporal).
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createTemporalReceiptStarter } from '../../src/api/receipts.js';
import { createPool } from '../../src/db/pool.js';
import { findFreePort } from '../../src/net/free-port.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { type ApiContext, createApiContext, FakeReceipts, testConfig } from '../helpers/api.js';
import { databaseProxy } from '../helpers/tcp-proxy.js';

let ctx: ApiContext;

beforeAll(async () => {
  ctx = await createApiContext();
});

describe('database down', () => {
  it('answers 503 unavailable with Retry-After when the database port is closed; /health stays 200', async () => {
    const closed = await findFreePort();
    const pool = createPool({ url: `postgres://wallet:pw@127.0.0.1:${closed}/wallet`, role: 'wallet_app' });
    pool.on('error', () => undefined);
    const app = await buildApp({ pool, config: testConfig, receipts: new FakeReceipts(), logger: false });
    const user = await ctx.user('down');
    const transfer = await app.inject({
      method: 'POST',
      url: '/api/wallet/transfer/',
      headers: { authorization: user.auth },
      payload: { receiver_id: 2, amount: '1.00' },
    });
    expect(transfer.statusCode).toBe(503);
    expect(transfer.headers['retry-after']).toBe('2');
    expect(transfer.json()).toEqual({
      error: 'The service is temporarily unavailable; retry shortly',
      code: 'unavailable',
    });
    expect(transfer.body).not.toContain(String(closed));
    const ready = await app.inject('/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.headers['retry-after']).toBe('2');
    expect(ready.json()).toMatchObject({ status: 'unavailable', database: 'down', receipt_backlog: null });
    expect((await app.inject('/health')).statusCode).toBe(200);
    await app.close();
    await pool.end();
  });

  it('answers 503 while the database is cut off, and recovers when it is back', async () => {
    const proxy = await databaseProxy(new URL(ctx.db.url));
    const pool = createPool({ url: proxy.url, role: 'wallet_app' });
    pool.on('error', () => undefined); // idle connections die with the proxy; the server logs these
    const app = await buildApp({ pool, config: testConfig, receipts: new FakeReceipts(), logger: false });
    const [a, b] = [await ctx.user('cut', '10.00'), await ctx.user('cut')];
    const transfer = () =>
      app.inject({
        method: 'POST',
        url: '/api/wallet/transfer/',
        headers: { authorization: a.auth },
        payload: { receiver_id: b.id, amount: '1.00' },
      });
    expect((await transfer()).statusCode).toBe(201); // credentials are now cached
    await proxy.down();
    const during = await transfer();
    expect(during.statusCode).toBe(503);
    expect(during.json().code).toBe('unavailable');
    expect(during.headers['retry-after']).toBe('2');
    expect((await app.inject('/ready')).statusCode).toBe(503);
    await proxy.up();
    expect((await transfer()).statusCode).toBe(201);
    expect((await app.inject('/ready')).statusCode).toBe(200);
    expect(await ctx.balanceOf(a.id)).toBe('8.00');
    await app.close();
    await pool.end();
    await proxy.down();
  });
});

describe('Temporal absent', () => {
  it('still answers 201 with the receipt pending, and stops trying Temporal on every request', async () => {
    const closed = await findFreePort();
    let connects = 0;
    const receipts = createTemporalReceiptStarter({
      connect: () => {
        connects++;
        return connectTemporalClient({ address: `127.0.0.1:${closed}`, namespace: 'default' });
      },
      taskQueue: 'wallet-receipts',
      onStarted: () => undefined,
      log: { warn: () => undefined, info: () => undefined, debug: () => undefined },
    });
    const app = await buildApp({ pool: ctx.pool, config: testConfig, receipts, logger: false });
    const [a, b] = [await ctx.user('notemporal', '10.00'), await ctx.user('notemporal')];
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/wallet/transfer/',
        headers: { authorization: a.auth },
        payload: { receiver_id: b.id, amount: '1.00' },
      });
      expect(res.statusCode).toBe(201);
      expect(res.json().receipt.status).toBe('pending');
      ids.push(res.json().transaction_id);
    }
    expect(connects).toBe(1); // the breaker keeps the other requests off Temporal
    const { rows } = await ctx.db.admin.query(
      'SELECT status, workflow_started_at FROM wallet.receipts WHERE transaction_id = ANY($1::bigint[])',
      [ids],
    );
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.status === 'pending' && r.workflow_started_at === null)).toBe(true);
    const ready = await app.inject('/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'degraded', database: 'up', temporal: 'down' });
    await app.close();
  });

  it('the default app (no starter given) serves transfers with TEMPORAL_ADDRESS unreachable', async () => {
    const closed = await findFreePort();
    const app = await buildApp({
      pool: ctx.pool,
      config: { ...testConfig, temporalAddress: `127.0.0.1:${closed}` },
      logger: false,
    });
    const [a, b] = [await ctx.user('default', '10.00'), await ctx.user('default')];
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/wallet/transfer/',
        headers: { authorization: a.auth },
        payload: { receiver_id: b.id, amount: '2.00' },
      });
      expect(res.statusCode).toBe(201);
    }
    expect(await ctx.balanceOf(b.id)).toBe('6.00');
    await app.close();
  });
});
