// With a real Temporal dev server: a transfer starts receipt-<id> right after commit and marks it started.
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { TransactionIdKey } from '../../src/temporal/search-attributes.js';
import { type ApiContext, createApiContext, testConfig } from '../helpers/api.js';
import { startTestTemporal } from '../helpers/temporal.js';

let ctx: ApiContext;
let server: DevServer;

beforeAll(async () => {
  ctx = await createApiContext();
  server = await startTestTemporal();
}, 90_000);

afterAll(async () => {
  await server?.stop();
}, 15_000);

async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('receipt workflow start', () => {
  it('starts receipt-<transaction id> with its search attributes and records the start', async () => {
    const app = await buildApp({
      pool: ctx.pool,
      config: { ...testConfig, temporalAddress: server.address },
      logger: false,
    });
    // /ready connects the lazy client (as a load balancer's first probe would); wait until it reports up.
    expect(await eventually(async () => (await app.inject('/ready')).json().temporal === 'up')).toBe(true);
    const [a, b] = [await ctx.user('temporal', '10.00'), await ctx.user('temporal')];
    const res = await app.inject({
      method: 'POST',
      url: '/api/wallet/transfer/',
      headers: { authorization: a.auth },
      payload: { receiver_id: b.id, amount: '3.00' },
    });
    expect(res.statusCode).toBe(201);
    const id = res.json().transaction_id as number;
    expect(res.json().receipt).toEqual({ status: 'pending', url: `/api/wallet/transactions/${id}/receipt` });

    const connection = await Connection.connect({ address: server.address });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const described = await client.workflow.getHandle(`receipt-${id}`).describe();
      expect(described.type).toBe('receiptWorkflow');
      expect(described.taskQueue).toBe('wallet-receipts');
      expect(described.typedSearchAttributes.get(TransactionIdKey)).toBe(id);
    } finally {
      await connection.close();
    }
    // Marking the start is fire-and-forget: give it a moment.
    const marked = await eventually(async () => {
      const { rows } = await ctx.db.admin.query(
        'SELECT workflow_started_at FROM wallet.receipts WHERE transaction_id = $1',
        [id],
      );
      return rows[0].workflow_started_at instanceof Date;
    });
    expect(marked).toBe(true);
    // (A start slower than the bound pauses starts for 5 s; readiness comes back after that.)
    expect(await eventually(async () => (await app.inject('/ready')).json().status === 'ready')).toBe(true);
    await app.close();
  });
});
