// GET /ready's receipt_backlog just below, at and above the cap of its counts: exact below and at it, the cap
// with pending_capped and unstarted_capped true above it, the oldest pending time exact throughout. And the
// OpenAPI document says so (the cap, the flags), so a dashboard built from it reads the capped answer right.
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { RECEIPT_BACKLOG_COUNT_CAP as CAP } from '../../src/db/rows.js';
import { type ApiContext, createApiContext, FakeReceipts } from '../helpers/api.js';
import { fillReceiptBacklog } from '../helpers/receipt-backlog.js';

let ctx: ApiContext;
let app: FastifyInstance;
let pending = 0;

beforeAll(async () => {
  ctx = await createApiContext();
  const receipts = new FakeReceipts();
  receipts.healthState = 'up';
  app = await ctx.build({ receipts });
});

async function readyBacklog(growTo: number) {
  await fillReceiptBacklog(ctx.db.admin, { unstarted: growTo - pending });
  pending = growTo;
  const res = await app.inject('/ready');
  expect(res.statusCode).toBe(200);
  expect(res.json().status).toBe('ready');
  return res.json().receipt_backlog;
}

async function oldestPendingAt(): Promise<string> {
  const { rows } = await ctx.db.admin.query(
    `SELECT min(t.created_at) AS at FROM wallet.receipts r JOIN wallet.transactions t ON t.id = r.transaction_id
      WHERE r.status = 'pending'`,
  );
  return (rows[0].at as Date).toISOString();
}

describe('GET /ready with a growing receipt backlog', () => {
  it('counts exactly up to the cap', async () => {
    for (const total of [CAP - 1, CAP]) {
      expect(await readyBacklog(total), `${total} pending`).toEqual({
        pending: total,
        pending_capped: false,
        unstarted: total,
        unstarted_capped: false,
        oldest_pending_at: await oldestPendingAt(),
      });
    }
  });

  it('answers "more than the cap" above it, with the oldest time exact', async () => {
    for (const total of [CAP + 1, 2 * CAP]) {
      expect(await readyBacklog(total), `${total} pending`).toEqual({
        pending: CAP,
        pending_capped: true,
        unstarted: CAP,
        unstarted_capped: true,
        oldest_pending_at: await oldestPendingAt(),
      });
    }
  });

  it("documents the cap and the flags in the OpenAPI document's /ready response", async () => {
    const doc = (await app.inject('/docs/json')).json();
    const backlog =
      doc.paths['/ready'].get.responses['200'].content['application/json'].schema.properties.receipt_backlog;
    expect(backlog.required).toEqual([
      'pending',
      'pending_capped',
      'unstarted',
      'unstarted_capped',
      'oldest_pending_at',
    ]);
    expect(backlog.description).toContain(CAP.toLocaleString('en'));
    expect(backlog.properties.pending.maximum).toBe(CAP);
    expect(backlog.properties.pending_capped.type).toBe('boolean');
  });
});
