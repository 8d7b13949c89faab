// A worker process killed with SIGKILL while a batch's receipts are printing, then a new one: every receipt
// of the batch is stored, once, by the batch workflow's run (its activity retried after the heartbeat timeout
// on the new worker). The worker runs as a child process slowed by the test-only RECEIPT_RENDER_DELAY_MS.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTemporalClient } from '../../src/temporal/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { receiptBatchWorkflowId } from '../../src/temporal/start-receipt.js';
import { pdfText } from '../helpers/chromium.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import {
  receiptRows,
  spawnWorker,
  type WorkerProcess,
  waitFor,
  waitForReceipts,
} from '../helpers/receipt-worker.js';
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
    RECEIPT_SWEEP_MS: '200',
    RECEIPT_RENDER_DELAY_MS: String(renderDelayMs),
  };
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

it('loses no receipt of a batch when the worker is killed mid-batch', async () => {
  const payer = await fundedUser(db.admin, 'payer', '1000.00');
  const payee = await fundedUser(db.admin, 'payee');
  const first = spawnWorker(workerEnv(20_000));
  workers.push(first);
  await first.ready;

  const amounts = Array.from({ length: 30 }, (_, i) => `${i + 1}.00`);
  const { rows } = await db.admin.query(
    'SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[]) ORDER BY item',
    [payer, amounts.map(() => payee), amounts],
  );
  const ids = rows.map((r) => r.transaction_id as number);
  const held = new RegExp(`holding receipts [\\d,]*\\b${ids[0]}\\b`);
  await waitFor('the batch to be printing', () => (held.test(first.output()) ? true : undefined));

  first.child.kill('SIGKILL');
  expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
  expect(new Set((await receiptRows(db.admin, ids)).map((r) => r.status))).toEqual(new Set(['pending']));

  const second = spawnWorker(workerEnv(0));
  workers.push(second);
  await second.ready;
  // The killed attempt's heartbeat stops; after the heartbeat timeout (15 s) the new worker runs it again.
  const receipts = await waitForReceipts(db.admin, ids, 120_000);
  receipts.forEach((receipt, i) => {
    expect(pdfText(receipt.pdf ?? Buffer.alloc(0))).toContain(`Transaction ${ids[i]}`);
  });

  const handle = client.workflow.getHandle(receiptBatchWorkflowId(ids[0] as number));
  expect(await handle.result()).toEqual({ batchId: ids[0], stored: 30, alreadyStored: 0, fellOut: [] });
  const history = (await handle.fetchHistory()).events ?? [];
  const attempts = history.flatMap((e) => e.activityTaskStartedEventAttributes?.attempt ?? []);
  expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2); // the killed attempt, then the one that stored
  const { runId } = await handle.describe();
  const { rows: by } = await db.admin.query(
    'SELECT DISTINCT rendered_by FROM wallet.receipts WHERE transaction_id = ANY ($1)',
    [ids],
  );
  expect(by).toEqual([{ rendered_by: runId }]);

  second.child.kill('SIGTERM');
  expect(await second.exited).toEqual({ code: 0, signal: null });
}, 240_000);
