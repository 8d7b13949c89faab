// Every kind of receipt a real worker prints, end to end (real Temporal dev server, Chromium, PostgreSQL): a
// capture's receipt names the hold it settles, a refund's the original, each workflow's memo says its kind, and
// each item of a batch gets its own receipt (printed by the batch's one workflow). The renderer's
// unit tests check the template; these check what the dispatcher, workflow and print make of real rows.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ReceiptWorker, startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { receiptBatchWorkflowId, receiptWorkflowId } from '../../src/temporal/start-receipt.js';
import { pdfText } from '../helpers/chromium.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import {
  executionsOnceCompleted,
  memoryLogger,
  quietTemporalRuntime,
  receiptConfig,
  waitForReceipts,
} from '../helpers/receipt-worker.js';
import { startTestTemporal } from '../helpers/temporal.js';

let db: TestDatabase;
let temporal: DevServer;
let worker: ReceiptWorker;
let client: Client;

beforeAll(async () => {
  quietTemporalRuntime();
  db = await createTestDatabase();
  temporal = await startTestTemporal();
  worker = await startReceiptWorker({
    config: receiptConfig(temporal.address),
    databaseUrl: db.url,
    log: memoryLogger(),
  });
  client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
});

afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
  await temporal?.stop();
});

/** The receipt's text, once stored, with its workflow completed exactly once. */
async function printed(id: number): Promise<string> {
  const [receipt] = await waitForReceipts(db.admin, [id]);
  expect(await executionsOnceCompleted(client, id)).toHaveLength(1);
  expect(await client.workflow.getHandle(receiptWorkflowId(id)).result()).toMatchObject({ storedNow: true });
  return pdfText(receipt?.pdf ?? Buffer.alloc(0)).replace(/\s+/g, ' ');
}

it("prints a capture's receipt naming the hold it settles, with the captured amount", async () => {
  const a = await fundedUser(db.admin, 'holder', '100.00');
  const b = await fundedUser(db.admin, 'merchant');
  const hold = (await db.app.query("SELECT * FROM wallet.hold($1, $2, 40, '1 day')", [a, b])).rows[0].hold_id;
  const t = (await db.app.query('SELECT * FROM wallet.capture($1, 25.5)', [hold])).rows[0].transaction_id;
  const text = await printed(t);
  expect(text).toContain(`Transaction ${t}`);
  expect(text).toContain('Type Capture');
  expect(text).toContain(`Settles hold ${hold}`);
  expect(text).toContain('Amount 25.50');
  // What operators read in the Temporal UI: the kind from the row, not guessed from who sent it.
  const described = await client.workflow.getHandle(receiptWorkflowId(t)).describe();
  expect(described.memo).toEqual({ amount: '25.50', kind: 'capture' });
}, 120_000);

it("prints a refund's receipt naming the original, and its workflow's memo says refund", async () => {
  const a = await fundedUser(db.admin, 'buyer', '30.00');
  const b = await fundedUser(db.admin, 'seller');
  const original = (await db.app.query('SELECT * FROM wallet.transfer($1, $2, 20)', [a, b])).rows[0]
    .transaction_id;
  const refund = (await db.app.query('SELECT * FROM wallet.refund($1, 7.25)', [original])).rows[0]
    .transaction_id;
  const text = await printed(refund);
  expect(text).toContain(`Refund of transaction ${original}`);
  expect(text).toContain('Amount 7.25');
  const memo = async (id: number) => (await client.workflow.getHandle(receiptWorkflowId(id)).describe()).memo;
  expect(await memo(refund)).toEqual({ amount: '7.25', kind: 'refund' });
  await printed(original);
  expect(await memo(original)).toEqual({ amount: '20.00', kind: 'transfer' });
}, 120_000);

it("prints one receipt per item of a batch, each with its own receiver and amount, in the batch's workflow", async () => {
  const payer = await fundedUser(db.admin, 'payroll', '100.00');
  const [r1, r2] = [await fundedUser(db.admin, 'staff1'), await fundedUser(db.admin, 'staff2')];
  const amounts = ['1.10', '2.20', '3.30'];
  const { rows } = await db.app.query(
    'SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[])',
    [payer, [r1, r2, r1], amounts],
  );
  const names = new Map(
    (await db.admin.query('SELECT id, username FROM wallet.users WHERE id = ANY($1)', [[r1, r2]])).rows.map(
      (u) => [u.id as number, u.username as string],
    ),
  );
  expect(rows).toHaveLength(3);
  const ids = rows.map((r) => r.transaction_id as number);
  const receipts = await waitForReceipts(db.admin, ids);
  // One workflow printed all three (a batch of up to 100 items is one group): each stored by it, none
  // handed to a workflow of its own.
  const result = await client.workflow.getHandle(receiptBatchWorkflowId(ids[0] as number)).result();
  expect(result).toMatchObject({ stored: 3, alreadyStored: 0, fellOut: [] });
  for (const [i, item] of rows.entries()) {
    const receipt = receipts.find((r) => r.transaction_id === item.transaction_id);
    const text = pdfText(receipt?.pdf ?? Buffer.alloc(0)).replace(/\s+/g, ' ');
    expect(text).toContain(`Transaction ${item.transaction_id}`);
    expect(text).toContain('Type Transfer');
    expect(text).toContain(`Amount ${amounts[i]}`);
    expect(text).toContain(names.get(item.receiver_id) as string);
    expect(text).not.toContain('Settles hold');
  }
}, 120_000);
