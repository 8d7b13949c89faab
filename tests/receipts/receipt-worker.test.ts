// End to end, in-process: the receipt worker and dispatcher with a real Temporal dev server, Chromium and
// PostgreSQL. Money moved by a DBA in SQL gets its receipt with no API involved; operators find the workflow.
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { consoleLogger } from '../../src/receipts/log.js';
import { type ReceiptWorker, startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { receiptWorkflowId, startReceiptWorkflow } from '../../src/temporal/start-receipt.js';
import { descendants, isChromium, pdfText, waitUntilGone } from '../helpers/chromium.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import {
  executionsOnceCompleted,
  memoryLogger,
  quietTemporalRuntime,
  receiptConfig,
  waitForReceipts,
} from '../helpers/receipt-worker.js';
import { startTestTemporal } from '../helpers/temporal.js';

const TASK_QUEUE = 'wallet-receipts';

let db: TestDatabase;
let temporal: DevServer;
let worker: ReceiptWorker;
let client: Client;
const log = process.env.DEBUG_RECEIPTS ? consoleLogger('info') : memoryLogger();

beforeAll(async () => {
  quietTemporalRuntime();
  db = await createTestDatabase();
  temporal = await startTestTemporal();
  worker = await startReceiptWorker({ config: receiptConfig(temporal.address), databaseUrl: db.url, log });
  client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
});

afterAll(async () => {
  const chromium = descendants(process.pid).filter(isChromium);
  await worker?.stop();
  await client?.connection.close();
  await temporal?.stop();
  expect(await waitUntilGone(chromium)).toEqual([]);
});

describe('receipts for money moved in SQL', () => {
  it('renders the receipt of a transfer a DBA made in psql, with no API call', async () => {
    const alice = await fundedUser(db.admin, 'alice', '100.00');
    const bob = await fundedUser(db.admin, 'bob');
    // Exactly what a DBA types in psql: a superuser session, the default NOTIFY, no workflow start.
    const { rows } = await db.admin.query('SELECT * FROM wallet.transfer($1, $2, 42.50)', [alice, bob]);
    const id: number = rows[0].transaction_id;

    const [receipt] = await waitForReceipts(db.admin, [id]);
    if (!receipt?.pdf) throw new Error('no PDF stored');
    const text = pdfText(receipt.pdf);
    expect(text).toContain(`Transaction ${id}`);
    expect(text).toContain(`From alice (user #${alice})`);
    expect(text).toContain(`To bob (user #${bob})`);
    expect(text).toContain('Amount 42.50');
    expect(receipt.pdf_size).toBe(receipt.pdf.length);
  });

  it('lets an operator find the workflow by TransactionId, with the amount in its memo', async () => {
    const carol = await fundedUser(db.admin, 'carol', '10.00');
    const dave = await fundedUser(db.admin, 'dave');
    const { rows } = await db.app.query('SELECT * FROM wallet.transfer($1, $2, 7.25)', [carol, dave]);
    const id: number = rows[0].transaction_id;
    await waitForReceipts(db.admin, [id]);

    const found = await executionsOnceCompleted(client, id);
    expect(found).toHaveLength(1);
    const execution = found[0];
    expect(execution?.workflowId).toBe(receiptWorkflowId(id));
    expect(execution?.type).toBe('receiptWorkflow');
    expect(execution?.taskQueue).toBe(TASK_QUEUE);
    expect(execution?.memo).toEqual({ amount: '7.25', kind: 'transfer' });
    const description = await client.workflow.getHandle(receiptWorkflowId(id)).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.searchAttributes).toMatchObject({
      TransactionId: [id],
      SenderId: [carol],
      ReceiverId: [dave],
    });
  });

  it('renders a deposit receipt without a sender', async () => {
    const erin = await fundedUser(db.admin, 'erin');
    const { rows } = await db.admin.query('SELECT * FROM wallet.deposit($1, 3.00)', [erin]);
    const id: number = rows[0].transaction_id;
    const [receipt] = await waitForReceipts(db.admin, [id]);
    const text = pdfText(receipt?.pdf ?? Buffer.alloc(0));
    expect(text).toContain('Type Deposit');
    expect(text).toContain('From none (deposit)');
    expect(text).toContain(`To erin (user #${erin})`);
  });

  it('collapses the API fast-path start and the dispatcher sweep into one execution', async () => {
    const frank = await fundedUser(db.admin, 'frank', '10.00');
    const grace = await fundedUser(db.admin, 'grace');
    // The API's way: no NOTIFY, it starts the workflow itself right after COMMIT (and does not mark it).
    const api = createPool({ url: db.url, role: 'wallet_app', max: 1 });
    try {
      const { rows } = await api.query('SELECT * FROM wallet.transfer($1, $2, 1.00)', [frank, grace]);
      const id: number = rows[0].transaction_id;
      const receipt = {
        transactionId: id,
        kind: 'transfer' as const,
        senderId: frank,
        receiverId: grace,
        amount: '1.00',
      };
      expect(await startReceiptWorkflow(client, TASK_QUEUE, receipt)).toBe('started');
      await worker.dispatcher?.sweep(); // the sweep finds it unmarked and starts it again: absorbed
      await waitForReceipts(db.admin, [id]);
      await worker.dispatcher?.sweep();
      // Once completed, a further start is refused as a duplicate and makes no second run. The PDF is stored
      // a moment before the workflow completes: until then a start joins the running execution ('started').
      await client.workflow.getHandle(receiptWorkflowId(id)).result();
      expect(await startReceiptWorkflow(client, TASK_QUEUE, receipt)).toBe('already-started');
      const executions = await executionsOnceCompleted(client, id);
      expect(executions).toHaveLength(1);
      expect(executions[0]?.runId).toBe(
        (await client.workflow.getHandle(receiptWorkflowId(id)).describe()).runId,
      );
      const history = await client.workflow.getHandle(receiptWorkflowId(id)).fetchHistory();
      const completions = (history.events ?? []).filter((e) => e.workflowExecutionCompletedEventAttributes);
      expect(completions).toHaveLength(1);
    } finally {
      await api.end();
    }
  });

  it('fails at once, without retrying, for a transaction that does not exist', async () => {
    const missing = 9_000_001;
    const receipt = {
      transactionId: missing,
      kind: 'deposit' as const,
      senderId: null,
      receiverId: 1,
      amount: '1.00',
    };
    await startReceiptWorkflow(client, TASK_QUEUE, receipt);
    const handle = client.workflow.getHandle(receiptWorkflowId(missing));
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    // Somewhere down the cause chain (ActivityFailure or not, depending on how the SDK wraps a local
    // activity's failure) is the non-retryable ApplicationFailure the activity threw.
    const causes: unknown[] = [];
    for (let e: unknown = (error as WorkflowFailedError).cause; e; e = (e as Error).cause) causes.push(e);
    const failure = causes.find((e) => e instanceof ApplicationFailure);
    expect(failure).toMatchObject({ type: 'TransactionNotFound', nonRetryable: true });
    // The print (a local activity, recorded as the only marker: the shape comes from the input, with no
    // version marker) failed; the fallback activity was never scheduled.
    const events = (await handle.fetchHistory()).events ?? [];
    const markers = events.flatMap((e) => e.markerRecordedEventAttributes?.markerName ?? []);
    expect(markers).toEqual(['core_local_activity']);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(0);
  });
});
