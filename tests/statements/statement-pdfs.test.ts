// End to end with a real Temporal dev server, Chromium and PostgreSQL: a refund's receipt, a statement PDF
// asked for over HTTP (202 while it renders, then the PDF; asked twice, rendered once; many pages with
// "page x of y" and the closing entry and hash at the end), and the monthly Schedule, created as the worker
// creates it and triggered by the documented CLI command, rendering last month's statements.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTemporalStatementStarter } from '../../src/api/statements.js';
import { type ReceiptWorker, startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { ensureMonthlyStatementsSchedule, MONTHLY_SCHEDULE_ID } from '../../src/statements/schedule.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { previousMonth, statementWorkflowId } from '../../src/workflows/statement-types.js';
import { type ApiContext, createApiContext, postJson, type TestUser } from '../helpers/api.js';
import { pdfText } from '../helpers/chromium.js';
import {
  memoryLogger,
  PROJECT_ROOT,
  quietTemporalRuntime,
  receiptConfig,
  waitFor,
  waitForReceipts,
} from '../helpers/receipt-worker.js';
import { startTestTemporal } from '../helpers/temporal.js';

const run = promisify(execFile);
let ctx: ApiContext;
let temporal: DevServer;
let worker: ReceiptWorker;
let client: Client;
let app: FastifyInstance;
const log = memoryLogger();

beforeAll(async () => {
  quietTemporalRuntime();
  ctx = await createApiContext();
  temporal = await startTestTemporal();
  worker = await startReceiptWorker({
    config: receiptConfig(temporal.address),
    databaseUrl: ctx.db.url,
    log,
  });
  client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
  app = await ctx.build({
    statements: createTemporalStatementStarter({
      connect: () => connectTemporalClient({ address: temporal.address, namespace: 'default' }),
      taskQueue: 'wallet-receipts',
    }),
  });
}, 180_000);

afterAll(async () => {
  await app?.close();
  await worker?.stop();
  await client?.connection.close();
  await temporal?.stop();
});

const get = (user: TestUser, url: string) => app.inject({ url, headers: { authorization: user.auth } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const compact = (text: string) => text.replace(/\s+/g, '');
/** An entry's row as pdftotext reads it: "... 16:49:30.123 UTC <transaction id> Transfer to user #5 ...". */
const entryRow = (transactionId: number) =>
  new RegExp(`UTC ${transactionId} (Transfer|Refund|Deposit|Capture) `);

async function executions(workflowId: string) {
  const found = [];
  for await (const e of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) found.push(e);
  return found;
}

describe('refund receipts', () => {
  it('prints "Refund of transaction N" on the refund’s receipt', async () => {
    const alice = await ctx.user('alice', '50.00');
    const bob = await ctx.user('bob');
    const paid = await postJson(app, '/api/wallet/transfer/', alice.auth, {
      receiver_id: bob.id,
      amount: '20.00',
    });
    const original = paid.json().transaction_id as number;
    const refund = await postJson(app, `/api/wallet/transactions/${original}/refund/`, bob.auth, {
      amount: '7.25',
    });
    const id = refund.json().transaction_id as number;
    const [receipt] = await waitForReceipts(ctx.db.admin, [id]);
    const text = pdfText(receipt?.pdf ?? Buffer.alloc(0));
    expect(text).toContain(`Transaction ${id}`);
    expect(text).toContain('Type Refund');
    expect(text).toContain(`Refund of transaction ${original}`);
    expect(text).toContain(`From ${bob.username} (user #${bob.id})`);
    expect(text).toContain(`To ${alice.username} (user #${alice.id})`);
    expect(text).toContain('Amount 7.25');
  });
});

describe('statement PDF over HTTP', () => {
  it('renders a long period once over many pages, 202 while it renders, then the stored PDF', async () => {
    const alice = await ctx.user('alice', '500.00');
    const bob = await ctx.user('bob');
    await sleep(5);
    const from = new Date();
    await sleep(5);
    // 150 entries in one batch, and a refund: several pages.
    const batch = await postJson(app, '/api/wallet/transfer/batch/', alice.auth, {
      transfers: Array.from({ length: 150 }, (_, i) => ({
        receiver_id: bob.id,
        amount: `${1 + (i % 3)}.00`,
      })),
    });
    expect(batch.statusCode).toBe(201);
    const ids: number[] = batch.json().transfers.map((t: { transaction_id: number }) => t.transaction_id);
    const refund = await postJson(app, `/api/wallet/transactions/${ids[0]}/refund/`, bob.auth, {});
    ids.push(refund.json().transaction_id);
    await sleep(5);
    const to = new Date();
    await sleep(5);
    await postJson(app, '/api/wallet/deposit/', alice.auth, { amount: '1.00' }); // after the period

    const url = `/api/wallet/statement.pdf?from=${from.toISOString()}&to=${to.toISOString()}`;
    // Asked twice at once: both wait for the same workflow.
    const [first, second] = await Promise.all([get(alice, url), get(alice, url)]);
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    const pdfResponse = await waitFor(
      'the statement PDF',
      async () => {
        const res = await get(alice, first.json().url);
        return res.statusCode === 200 ? res : undefined;
      },
      120_000,
      250,
    );
    expect(pdfResponse.headers['content-type']).toBe('application/pdf');
    const pdf = pdfResponse.rawPayload;
    const summary = (
      await get(alice, `/api/wallet/statement/?from=${from.toISOString()}&to=${to.toISOString()}`)
    ).json().summary;
    expect(summary).toMatchObject({ opening_balance: '500.00', entries: 151 });

    const text = pdfText(pdf);
    expect(text).toContain(`${alice.username} (user #${alice.id})`);
    expect(text).toContain(`Opening balance ${summary.opening_balance}`);
    expect(text).toContain(`Closing balance ${summary.closing_balance}`);
    for (const id of ids) expect(text).toMatch(entryRow(id));
    const pages = Number(/Page 1 of (\d+)/.exec(text)?.[1]);
    expect(pages).toBeGreaterThan(2);
    expect(text).toContain(`Page ${pages} of ${pages}`);
    // At the end: the closing entry and chain hash (the hash may wrap; compare without spaces).
    const tail = text.slice(text.lastIndexOf('Closing entry'));
    expect(tail).toContain(`Closing entry ${summary.closing_entry}`);
    expect(compact(tail)).toContain(summary.closing_hash);

    // Asked again: the same bytes, no new render; one workflow execution ever.
    const again = await get(alice, url);
    expect(again.statusCode).toBe(200);
    expect(again.rawPayload.equals(pdf)).toBe(true);
    const workflowId = statementWorkflowId(
      alice.id,
      from.toISOString().replace('.000Z', 'Z'),
      to.toISOString().replace('.000Z', 'Z'),
    );
    const result = await client.workflow.getHandle(workflowId).result();
    expect(result).toMatchObject({ storedNow: true, pdfSize: pdf.length });
    expect(await executions(workflowId)).toHaveLength(1);
    const { rows } = await ctx.db.admin.query(
      'SELECT count(*)::int AS n FROM wallet.statements WHERE user_id = $1',
      [alice.id],
    );
    expect(rows[0].n).toBe(1);
  }, 180_000);
});

describe('monthly statements Schedule', () => {
  it('is created as the worker creates it, triggered by the CLI, and renders last month’s statements', async () => {
    // Two wallets with history last month (and an opening balance from the month before), one without.
    const carol = await ctx.user('carol', '40.00');
    const dave = await ctx.user('dave', '5.00');
    const t1 = await postJson(app, '/api/wallet/transfer/', carol.auth, {
      receiver_id: dave.id,
      amount: '12.50',
    });
    const t2 = await postJson(app, '/api/wallet/transfer/', dave.auth, {
      receiver_id: carol.id,
      amount: '3.00',
    });
    const moved = [t1.json().transaction_id as number, t2.json().transaction_id as number];
    // The test cannot wait a month: as a superuser, past the append-only guard, move these wallets' entries
    // back (deposits two months, the transfers one), keeping each wallet's order.
    const admin = await ctx.db.client();
    await admin.query("SET session_replication_role = 'replica'");
    await admin.query(
      `UPDATE wallet.entries SET created_at = created_at - CASE WHEN kind = 'deposit' THEN interval '2 months'
                                                               ELSE interval '1 month' END
        WHERE user_id = ANY ($1)`,
      [[carol.id, dave.id]],
    );
    await admin.end();

    const config = {
      temporalAddress: temporal.address,
      temporalNamespace: 'default',
      receiptTaskQueue: 'wallet-receipts',
    };
    const lines: string[] = [];
    const scheduleLog = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
    await ensureMonthlyStatementsSchedule(config, scheduleLog);
    await ensureMonthlyStatementsSchedule(config, scheduleLog); // a second worker start changes nothing
    expect(lines).toEqual([
      `monthly statements Schedule ${MONTHLY_SCHEDULE_ID}: created`,
      `monthly statements Schedule ${MONTHLY_SCHEDULE_ID}: exists`,
    ]);
    const described = await client.schedule.getHandle(MONTHLY_SCHEDULE_ID).describe();
    expect(described.spec.calendars?.[0]).toMatchObject({ dayOfMonth: [{ start: 1, end: 1, step: 1 }] });
    expect(described.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'monthlyStatementsWorkflow',
    });

    const cli = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'statements', 'monthly'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: temporal.address, LOG_LEVEL: 'warn' },
    });
    expect(cli.stdout).toContain(`triggered the Schedule ${MONTHLY_SCHEDULE_ID}`);

    const period = previousMonth(new Date());
    const rows = await waitFor(
      'last month’s statements',
      async () => {
        const { rows } = await ctx.db.admin.query(
          `SELECT user_id, pdf FROM wallet.statements
            WHERE period_from = $1 AND period_to = $2 ORDER BY user_id`,
          [period.from, period.to],
        );
        return rows.length >= 2 ? rows : undefined;
      },
      120_000,
      500,
    );
    // Only the wallets with entries last month: every other wallet of this database has only this month's.
    expect(rows.map((r) => r.user_id)).toEqual([carol.id, dave.id]);
    const expected = { [carol.id]: ['40.00', '30.50'], [dave.id]: ['5.00', '14.50'] };
    for (const row of rows) {
      const text = pdfText(row.pdf);
      const [opening, closing] = expected[row.user_id] ?? [];
      expect(text).toContain(`Opening balance ${opening}`);
      expect(text).toContain(`Closing balance ${closing}`);
      for (const id of moved) expect(text).toMatch(entryRow(id));
    }

    // The same month again, by --month: nothing left to render, nothing rendered twice.
    const month = period.from.slice(0, 7);
    const again = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'statements', 'monthly', '--month', month],
      { cwd: PROJECT_ROOT, env: { ...process.env, TEMPORAL_ADDRESS: temporal.address, LOG_LEVEL: 'warn' } },
    );
    expect(again.stdout).toContain(`started monthly-statements-${month}`);
    const rerun = await client.workflow.getHandle(`monthly-statements-${month}`).result();
    expect(rerun).toEqual({ ...period, started: 0, failed: 0 });
    const { rows: after } = await ctx.db.admin.query(
      'SELECT count(*)::int AS n FROM wallet.statements WHERE period_from = $1 AND period_to = $2',
      [period.from, period.to],
    );
    expect(after[0].n).toBe(2);
  }, 240_000);
});
