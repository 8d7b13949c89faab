// GET /api/wallet/balance/?at=, GET /api/wallet/statement/ and the HTTP side of GET /api/wallet/statement.pdf
// against a real PostgreSQL, with a fake statement starter (tests/statements/ runs the real workflow).
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTemporalStatementStarter } from '../../src/api/statements.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import {
  type ApiContext,
  createApiContext,
  errorOf,
  FakeStatements,
  postJson,
  type TestUser,
} from '../helpers/api.js';

let ctx: ApiContext;
let app: FastifyInstance;
let statements: FakeStatements;

beforeAll(async () => {
  ctx = await createApiContext();
  statements = new FakeStatements();
  app = await ctx.build({ statements });
});

const get = (user: TestUser, url: string) => app.inject({ url, headers: { authorization: user.auth } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Entry {
  entry: number;
  transaction_id: number;
  direction: string;
  amount: string;
  balance_after: string;
  created_at: string;
}

describe('balance at an instant', () => {
  it('answers the balance right after the last entry at or before at, 0.00 before the first', async () => {
    const alice = await ctx.user('alice');
    const before = new Date().toISOString();
    await sleep(5);
    const bob = await ctx.user('bob', '50.00');
    await postJson(app, '/api/wallet/transfer/', bob.auth, { receiver_id: alice.id, amount: '20.00' });
    await sleep(5);
    const middle = new Date().toISOString();
    await sleep(5);
    await postJson(app, '/api/wallet/transfer/', alice.auth, { receiver_id: bob.id, amount: '5.00' });
    const first = await get(alice, `/api/wallet/balance/?at=${before}`);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({
      user_id: alice.id,
      username: alice.username,
      balance: '0.00',
      at: before,
    });
    expect((await get(alice, `/api/wallet/balance/?at=${middle}`)).json().balance).toBe('20.00');
    expect((await get(alice, `/api/wallet/balance/?at=${new Date().toISOString()}`)).json().balance).toBe(
      '15.00',
    );
    // Without at: today's answer, with available.
    expect((await get(alice, '/api/wallet/balance/')).json()).toMatchObject({
      balance: '15.00',
      available: '15.00',
    });
  });

  it('rejects a malformed, impossible or future at with a 400 that shows a valid one', async () => {
    const alice = await ctx.user('alice');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    for (const at of ['yesterday', '2026-02-30', '2026-11-30T24:00:00Z', '2026-11-30T23:59:59', future]) {
      const res = await get(alice, `/api/wallet/balance/?at=${encodeURIComponent(at)}`);
      expect(res.statusCode, at).toBe(400);
      expect(errorOf(res).code).toBe('validation_error');
      expect(errorOf(res).error).toContain('2026-11-30T23:59:59Z');
    }
  });
});

describe('statement JSON', () => {
  it('gives the summary and the entries of [from, to), oldest first, money as two-decimal strings', async () => {
    const alice = await ctx.user('alice', '100.00');
    const bob = await ctx.user('bob');
    await sleep(5);
    const from = new Date().toISOString();
    await sleep(5);
    const t1 = await postJson(app, '/api/wallet/transfer/', alice.auth, {
      receiver_id: bob.id,
      amount: '30',
    });
    const r1 = await postJson(app, `/api/wallet/transactions/${t1.json().transaction_id}/refund/`, bob.auth, {
      amount: '10.50',
    });
    await sleep(5);
    const to = new Date().toISOString();
    await sleep(5);
    await postJson(app, '/api/wallet/deposit/', alice.auth, { amount: '1.00' }); // after the period
    const res = await get(alice, `/api/wallet/statement/?from=${from}&to=${to}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ user_id: alice.id, from, to, next_after: null });
    expect(body.summary).toEqual({
      opening_balance: '100.00',
      closing_balance: '80.50',
      total_in: '10.50',
      total_out: '30.00',
      entries: 2,
      closing_entry: 3,
      closing_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(body.entries).toEqual([
      expect.objectContaining({
        entry: 2,
        transaction_id: t1.json().transaction_id,
        kind: 'transfer',
        direction: 'sent',
        counterparty_id: bob.id,
        amount: '30.00',
        balance_after: '70.00',
      }),
      expect.objectContaining({
        entry: 3,
        transaction_id: r1.json().transaction_id,
        kind: 'refund',
        direction: 'received',
        amount: '10.50',
        balance_after: '80.50',
        hash: body.summary.closing_hash,
      }),
    ]);
    // Dates are midnight UTC; the default is the current month so far.
    const byDate = await get(alice, '/api/wallet/statement/?from=2000-01-01&to=2000-02-01');
    expect(byDate.json()).toMatchObject({ from: '2000-01-01T00:00:00.000Z', entries: [] });
    expect(byDate.json().summary).toMatchObject({ opening_balance: '0.00', closing_entry: 0, entries: 0 });
    const current = (await get(alice, '/api/wallet/statement/')).json();
    expect(current.entries.length).toBe(4);
  });

  it('pages 1,000 entries at a time with next_after, and the pages add up to the whole period', async () => {
    const payer = await ctx.user('payer', '100.00');
    const busy = await ctx.user('busy');
    await ctx.db.admin.query(
      `SELECT * FROM wallet.transfer_batch($1, array_fill($2::bigint, ARRAY[1000]), array_fill(0.01::numeric, ARRAY[1000]))`,
      [payer.id, busy.id],
    );
    for (let i = 0; i < 3; i++) {
      await postJson(app, '/api/wallet/transfer/', payer.auth, { receiver_id: busy.id, amount: '1.00' });
    }
    const first = (await get(busy, '/api/wallet/statement/')).json();
    expect(first.entries).toHaveLength(1000);
    expect(first.next_after).toBe(1000);
    expect(first.summary).toMatchObject({ entries: 1003, total_in: '13.00', closing_balance: '13.00' });
    const second = (await get(busy, `/api/wallet/statement/?after=${first.next_after}`)).json();
    expect(second.entries.map((e: Entry) => e.entry)).toEqual([1001, 1002, 1003]);
    expect(second.next_after).toBeNull();
    const all: Entry[] = [...first.entries, ...second.entries];
    expect(all.map((e) => e.entry)).toEqual(Array.from({ length: 1003 }, (_, i) => i + 1));
    expect(all.at(-1)?.balance_after).toBe(second.summary.closing_balance);
  });

  it('rejects a malformed or reversed range with a 400 that shows a valid one', async () => {
    const alice = await ctx.user('alice');
    for (const query of [
      'from=2026-13-01',
      'from=2026-11-01&to=2026-11-01',
      'from=2026-12-01&to=2026-11-01',
      'to=11/30/2026',
      'from=2026-11-01T00:00:00.1234Z',
      'after=-1',
      'page=2',
    ]) {
      const res = await get(alice, `/api/wallet/statement/?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(errorOf(res).code).toBe('validation_error');
    }
    const reversed = await get(alice, '/api/wallet/statement/?from=2026-12-01&to=2026-11-01');
    expect(errorOf(reversed).error).toContain('from=2026-11-01&to=2026-12-01');
  });
});

describe('statement PDF over HTTP', () => {
  it('starts the workflow and answers 202 with the URL to ask again; last month by default', async () => {
    const alice = await ctx.user('alice');
    const res = await get(alice, '/api/wallet/statement.pdf?from=2026-10-01&to=2026-11-01');
    expect(res.statusCode).toBe(202);
    expect(res.headers['retry-after']).toBe('2');
    const from = '2026-10-01T00:00:00Z';
    const to = '2026-11-01T00:00:00Z';
    expect(res.json()).toEqual({
      status: 'rendering',
      url: `/api/wallet/statement.pdf?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
    });
    expect(statements.started.at(-1)).toEqual({ userId: alice.id, from, to });
    // Its own URL names the same period (and so the same workflow).
    await get(alice, res.json().url);
    expect(statements.started.at(-1)).toEqual({ userId: alice.id, from, to });
    await get(alice, '/api/wallet/statement.pdf');
    const now = new Date();
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    expect(statements.started.at(-1)?.from).toBe(lastMonth.toISOString().replace('.000Z', 'Z'));
  });

  it('serves a stored statement as application/pdf', async () => {
    const alice = await ctx.user('alice');
    const pdf = Buffer.from('%PDF-1.4 stand-in for a rendered statement');
    await ctx.db.admin.query(
      `SELECT * FROM wallet.store_statement_pdf($1, '2026-09-01Z', '2026-10-01Z', $2, 0, NULL, 'test')`,
      [alice.id, pdf],
    );
    const starts = statements.started.length;
    const res = await get(alice, '/api/wallet/statement.pdf?from=2026-09-01&to=2026-10-01T02:00:00%2B02:00');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.rawPayload.equals(pdf)).toBe(true);
    expect(statements.started.length).toBe(starts);
    // Someone else's period is theirs alone.
    const bob = await ctx.user('bob');
    expect((await get(bob, '/api/wallet/statement.pdf?from=2026-09-01&to=2026-10-01')).statusCode).toBe(202);
  });

  it('refuses a period that is not over (422 period_open) and a bad one (400)', async () => {
    const alice = await ctx.user('alice');
    const open = await get(
      alice,
      `/api/wallet/statement.pdf?from=2026-11-01&to=${new Date(Date.now() + 60_000).toISOString()}`,
    );
    expect(open.statusCode).toBe(422);
    expect(errorOf(open).code).toBe('period_open');
    const bad = await get(alice, '/api/wallet/statement.pdf?from=2026-11-31');
    expect(bad.statusCode).toBe(400);
  });

  it('answers 503 unavailable, and nothing else, from the real starter when Temporal is unreachable', async () => {
    const alice = await ctx.user('alice');
    const offline = await ctx.build({
      statements: createTemporalStatementStarter({
        connect: () => connectTemporalClient({ address: '127.0.0.1:1', namespace: 'default' }),
        taskQueue: 'wallet-receipts',
      }),
    });
    const res = await offline.inject({
      url: '/api/wallet/statement.pdf?from=2026-08-01&to=2026-09-01',
      headers: { authorization: alice.auth },
    });
    expect(res.statusCode).toBe(503);
    expect(errorOf(res)).toEqual({
      code: 'unavailable',
      error: 'Statements cannot be rendered right now; retry shortly',
    });
  });

  it('answers 503 unavailable when Temporal cannot start it', async () => {
    const alice = await ctx.user('alice');
    statements.fail = true;
    try {
      const res = await get(alice, '/api/wallet/statement.pdf?from=2026-08-01&to=2026-09-01');
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('2');
      expect(errorOf(res).code).toBe('unavailable');
    } finally {
      statements.fail = false;
    }
  });
});
