// A worker process killed with SIGKILL in the middle of rendering, then a new one: every receipt is produced
// exactly once, and the killed worker leaves no Chromium behind. The worker runs as a child process
// (`node --import tsx src/worker.ts`), slowed by the test-only RECEIPT_RENDER_DELAY_MS so the kill lands
// while pages are printing.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTemporalClient } from '../../src/temporal/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { receiptWorkflowId } from '../../src/temporal/start-receipt.js';
import { descendants, isChromium, pdfText, waitUntilGone } from '../helpers/chromium.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import {
  executionsOnceCompleted,
  receiptRows,
  spawnWorker,
  type WorkerProcess,
  waitFor,
  waitForReceipts,
} from '../helpers/receipt-worker.js';
import { renderAttempts } from '../helpers/render-history.js';
import { startTestTemporal } from '../helpers/temporal.js';

let db: TestDatabase;
let temporal: DevServer;
let client: Client;
const workers: WorkerProcess[] = [];

function workerEnv(renderDelayMs: number): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    TEMPORAL_ADDRESS: temporal.address,
    RECEIPT_PAGES: '2',
    RECEIPT_SWEEP_MS: '500',
    RECEIPT_RENDER_DELAY_MS: String(renderDelayMs),
  };
}

/** Receipts the worker is printing right now: it names them when the test-only delay holds a print. */
function printing(worker: WorkerProcess, ids: number[]): number[] {
  const held = [...worker.output().matchAll(/test delay: holding receipts ([\d,]+) before printing/g)];
  const named = new Set(held.flatMap((m) => (m[1] ?? '').split(',').map(Number)));
  return ids.filter((id) => named.has(id));
}

/** History events of a receipt's workflow. */
async function events(id: number) {
  return (await client.workflow.getHandle(receiptWorkflowId(id)).fetchHistory()).events ?? [];
}

beforeAll(async () => {
  db = await createTestDatabase();
  temporal = await startTestTemporal();
  client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
});

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await client?.connection.close();
  await temporal?.stop();
});

it('produces every receipt exactly once after the worker is killed mid-render', async () => {
  const alice = await fundedUser(db.admin, 'alice', '100.00');
  const bob = await fundedUser(db.admin, 'bob');

  const first = spawnWorker(workerEnv(20_000));
  workers.push(first);
  await first.ready;
  const ids: number[] = [];
  for (const amount of ['1.00', '2.00', '3.00']) {
    const { rows } = await db.admin.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [
      alice,
      bob,
      amount,
    ]);
    ids.push(rows[0].transaction_id);
  }
  // At least two receipts in prints (in one coalesced print or on both pages).
  const inFlight = await waitFor('two receipts being printed', () => {
    const busy = printing(first, ids);
    return busy.length >= 2 ? busy : undefined;
  });
  const chromium = descendants(first.pid).filter(isChromium);
  expect(chromium.length).toBeGreaterThan(0);

  first.child.kill('SIGKILL');
  expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
  // Chromium notices its pipe to the dead worker closed and exits on its own.
  expect(await waitUntilGone(chromium)).toEqual([]);
  expect((await receiptRows(db.admin, ids)).map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);

  const second = spawnWorker(workerEnv(0));
  workers.push(second);
  await second.ready;
  // The killed workflow tasks (printing in a local activity) time out (10 s) and run again on the new worker.
  const receipts = await waitForReceipts(db.admin, ids, 120_000);

  for (const receipt of receipts) {
    expect(receipt.pdf_size).toBe(receipt.pdf?.length);
    expect(pdfText(receipt.pdf ?? Buffer.alloc(0))).toContain(`Transaction ${receipt.transaction_id}`);
  }
  for (const id of ids) {
    const executions = await executionsOnceCompleted(client, id);
    expect(
      executions.map((e) => e.status.name),
      `receipt-${id}`,
    ).toEqual(['COMPLETED']);
  }
  // The receipts that were printing when the worker died were printed again: by their workflow task run
  // again after it timed out (killed in the local activity), or by a later attempt of the fallback activity
  // (killed after the local activity's 5 s bound had sent them there). Their result shows one store.
  for (const id of inFlight) {
    const history = await events(id);
    const taskTimedOut = history.some((e) => e.workflowTaskTimedOutEventAttributes);
    const attempts = history.flatMap((e) => e.activityTaskStartedEventAttributes?.attempt ?? []);
    expect(taskTimedOut || Math.max(0, ...attempts) >= 2, `receipt-${id} was printed again`).toBe(true);
    // The helper the fault tests rely on reads this real history as two renders or more (a lost task is one).
    expect(renderAttempts({ events: history }), `receipt-${id} render attempts`).toBeGreaterThanOrEqual(2);
    const result = await client.workflow.getHandle(receiptWorkflowId(id)).result();
    expect(result).toMatchObject({ transactionId: id, storedNow: true });
  }

  const chromium2 = descendants(second.pid).filter(isChromium);
  second.child.kill('SIGTERM');
  const exit = await second.exited;
  if (exit.code !== 0) console.log(second.output());
  expect(exit).toEqual({ code: 0, signal: null });
  expect(second.output()).toContain('receipt worker stopped');
  expect(await waitUntilGone(chromium2)).toEqual([]);
}, 240_000);

it('drains a render in flight on SIGTERM before it exits', async () => {
  const carol = await fundedUser(db.admin, 'carol', '10.00');
  const dave = await fundedUser(db.admin, 'dave');
  const worker = spawnWorker(workerEnv(2_000)); // within the local activity's 5 s bound
  workers.push(worker);
  await worker.ready;
  const { rows } = await db.admin.query('SELECT * FROM wallet.transfer($1, $2, 9.99)', [carol, dave]);
  const id: number = rows[0].transaction_id;
  await waitFor('the print in flight', () => (printing(worker, [id]).length ? true : undefined));
  const chromium = descendants(worker.pid).filter(isChromium);
  // Still pending when the signal goes out (the print is held 2 s): what is stored next is the drain's work.
  expect((await receiptRows(db.admin, [id])).map((r) => r.status)).toEqual(['pending']);

  worker.child.kill('SIGTERM');
  expect(await worker.exited).toEqual({ code: 0, signal: null });
  // Stored by the attempt that was running when the signal came: no retry was needed.
  const [receipt] = await receiptRows(db.admin, [id]);
  expect(receipt?.status).toBe('rendered');
  const history = await events(id);
  expect(history.filter((e) => e.workflowTaskTimedOutEventAttributes)).toEqual([]);
  expect(history.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]); // no fallback needed
  expect(await client.workflow.getHandle(receiptWorkflowId(id)).result()).toMatchObject({ storedNow: true });
  expect(await waitUntilGone(chromium)).toEqual([]);
}, 120_000);
