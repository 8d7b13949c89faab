// Batch receipts end to end (real Temporal dev server, Chromium, PostgreSQL): a batch transfer's receipts are
// printed by one workflow per 100 items, each PDF its own transaction's, none printed twice, each recorded by
// the run that printed it; the TransactionIds search finds the workflow behind any receipt; a receipt that
// cannot be printed falls out to its own workflow, retried alone while its neighbours are stored.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ReceiptWorker, startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { receiptSearchQuery } from '../../src/temporal/search-attributes.js';
import { receiptBatchWorkflowId, receiptWorkflowId } from '../../src/temporal/start-receipt.js';
import { pdfText } from '../helpers/chromium.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import {
  memoryLogger,
  quietTemporalRuntime,
  receiptConfig,
  waitFor,
  waitForReceipts,
} from '../helpers/receipt-worker.js';
import { startTestTemporal } from '../helpers/temporal.js';

let db: TestDatabase;
let temporal: DevServer;
let worker: ReceiptWorker;
let client: Client;
/** TEST ONLY fault: prints that carry one of these receipts fail, as if its document could not be printed. */
const unprintable = new Set<number>();

beforeAll(async () => {
  quietTemporalRuntime();
  db = await createTestDatabase();
  temporal = await startTestTemporal();
  worker = await startReceiptWorker({
    config: receiptConfig(temporal.address),
    databaseUrl: db.url,
    log: memoryLogger(),
    failRender: (id) => unprintable.has(id),
  });
  client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
});

afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
  await temporal?.stop();
});

/** A batch from psql, committed after `beforeCommit` saw its ids; returns the ids in item order. */
async function batchFromPsql(
  sender: number,
  receivers: number[],
  amounts: string[],
  beforeCommit: (ids: number[]) => void = () => {},
): Promise<number[]> {
  const session = await db.admin.connect();
  try {
    await session.query('BEGIN');
    const { rows } = await session.query(
      'SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[]) ORDER BY item',
      [sender, receivers, amounts],
    );
    const ids = rows.map((r) => r.transaction_id as number);
    beforeCommit(ids);
    await session.query('COMMIT');
    return ids;
  } finally {
    session.release();
  }
}

/** Workflow ids an operator's one search finds for a transaction (waits for visibility to show `expected`). */
async function searchFinds(transactionId: number, expected: string[]): Promise<string[]> {
  return waitFor(`the search for ${transactionId} to find ${expected.join(', ')}`, async () => {
    const found: string[] = [];
    for await (const w of client.workflow.list({ query: receiptSearchQuery(transactionId) })) {
      found.push(w.workflowId);
    }
    found.sort();
    return JSON.stringify(found) === JSON.stringify([...expected].sort()) ? found : undefined;
  });
}

async function renderedBy(ids: number[]): Promise<Map<number, string>> {
  const { rows } = await db.admin.query(
    'SELECT transaction_id, rendered_by FROM wallet.receipts WHERE transaction_id = ANY ($1)',
    [ids],
  );
  return new Map(rows.map((r) => [r.transaction_id as number, r.rendered_by as string]));
}

it('prints a batch in one workflow per 100 items: every PDF right, none printed twice, found by any id', async () => {
  const payer = await fundedUser(db.admin, 'payer', '10000.00');
  const ann = await fundedUser(db.admin, 'ann');
  const ben = await fundedUser(db.admin, 'ben');
  await waitForReceipts(db.admin); // the funding deposit's
  const printedBefore = worker.renderer.counts.receipts;
  const { started: startsBefore, workflows: workflowsBefore } = worker.dispatcher?.stats ?? {
    started: 0,
    workflows: 0,
  };

  const amounts = Array.from({ length: 120 }, (_, i) => `${i + 1}.${String(i % 100).padStart(2, '0')}`);
  const ids = await batchFromPsql(
    payer,
    amounts.map((_, i) => (i % 2 ? ben : ann)),
    amounts,
  );
  const receipts = await waitForReceipts(db.admin, ids, 120_000);

  receipts.forEach((receipt, i) => {
    expect(receipt.pdf_size).toBe(receipt.pdf?.length);
    const text = pdfText(receipt.pdf ?? Buffer.alloc(0));
    expect(text).toContain(`Transaction ${ids[i]}`);
    expect(text).toContain(`Amount ${amounts[i]}`);
    expect(text).toContain(i % 2 ? 'ben' : 'ann');
  });
  // Each receipt printed once: as many receipts printed as the batch has, in far fewer prints.
  expect(worker.renderer.counts.receipts - printedBefore).toBe(120);
  expect(worker.dispatcher?.stats.started).toBe(startsBefore + 120);
  expect(worker.dispatcher?.stats.workflows).toBe(workflowsBefore + 2);

  const [head, tail] = [ids[0] as number, ids[100] as number];
  for (const [batchId, count] of [
    [head, 100],
    [tail, 20],
  ] as const) {
    const handle = client.workflow.getHandle(receiptBatchWorkflowId(batchId));
    expect(await handle.result()).toEqual({ batchId, stored: count, alreadyStored: 0, fellOut: [] });
    // Recorded by the run that printed them.
    const { runId } = await handle.describe();
    const members = ids.filter((_, i) => (batchId === head ? i < 100 : i >= 100));
    expect(new Set((await renderedBy(members)).values())).toEqual(new Set([runId]));
  }
  // No workflow of their own.
  await expect(client.workflow.getHandle(receiptWorkflowId(ids[5] as number)).describe()).rejects.toThrow(
    /not found/i,
  );
  // One search by any item's id finds its batch's workflow; a single transfer's finds its own.
  for (const i of [0, 57, 99]) await searchFinds(ids[i] as number, [receiptBatchWorkflowId(head)]);
  for (const i of [100, 119]) await searchFinds(ids[i] as number, [receiptBatchWorkflowId(tail)]);
  const { rows } = await db.admin.query('SELECT * FROM wallet.transfer($1, $2, 1.00)', [payer, ann]);
  const single: number = rows[0].transaction_id;
  await waitForReceipts(db.admin, [single]);
  await searchFinds(single, [receiptWorkflowId(single)]);
}, 240_000);

it('hands a receipt that cannot be printed to its own workflow, retried alone, while the others are stored', async () => {
  const payer = await fundedUser(db.admin, 'payer2', '100.00');
  const cat = await fundedUser(db.admin, 'cat');
  await waitForReceipts(db.admin);
  const amounts = ['1.00', '2.00', '3.00', '4.00', '5.00'];
  const ids = await batchFromPsql(
    payer,
    amounts.map(() => cat),
    amounts,
    (made) => unprintable.add(made[2] as number),
  );
  const bad = ids[2] as number;
  const good = ids.filter((id) => id !== bad);
  await waitForReceipts(db.admin, good);
  const batch = client.workflow.getHandle(receiptBatchWorkflowId(ids[0] as number));
  expect(await batch.result()).toEqual({ batchId: ids[0], stored: 4, alreadyStored: 0, fellOut: [bad] });

  // Its own workflow retries it, visibly: attempts and the last error.
  const own = client.workflow.getHandle(receiptWorkflowId(bad));
  const pending = await waitFor('a second attempt of the fallen-out receipt', async () => {
    const activity = (await own.describe()).raw.pendingActivities?.[0];
    return activity && (activity.attempt ?? 0) >= 2 ? activity : undefined;
  });
  expect(pending.lastFailure?.message).toContain(`injected render failure for transaction ${bad}`);
  expect(
    (await db.admin.query('SELECT status FROM wallet.receipts WHERE transaction_id = $1', [bad])).rows,
  ).toEqual([{ status: 'pending' }]);

  unprintable.delete(bad); // fixed: its next attempt prints it
  const [receipt] = await waitForReceipts(db.admin, [bad], 120_000);
  expect(pdfText(receipt?.pdf ?? Buffer.alloc(0))).toContain(`Transaction ${bad}`);
  expect(await own.result()).toMatchObject({ transactionId: bad, storedNow: true });
  const by = await renderedBy(ids);
  expect(by.get(bad)).toBe((await own.describe()).runId);
  const batchRun = (await batch.describe()).runId;
  for (const id of good) expect(by.get(id)).toBe(batchRun);
  // The search shows both: the batch that handed it over, and the workflow that printed it.
  await searchFinds(bad, [receiptBatchWorkflowId(ids[0] as number), receiptWorkflowId(bad)]);
}, 240_000);
