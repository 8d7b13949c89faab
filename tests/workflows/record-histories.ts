// Records the replay fixtures from a real run: a real dev server, worker, Chromium and database. Used by
// replay.test.ts when RECORD_RECEIPT_HISTORIES=1; the JSON files it writes are committed and replayed on
// every later run. Re-record only on purpose (a deliberate, versioned change to the workflow).
import { receiptWorkflowId, startReceiptWorkflow } from '../../src/temporal/start-receipt.js';
import { fundedUser } from '../helpers/database.js';
import { waitForReceipts } from '../helpers/receipt-worker.js';
import { exportHistories, withRecordingStack } from './recording-stack.js';

export function recordHistories(): Promise<string[]> {
  return withRecordingStack(async ({ db, temporal, client }) => {
    const alice = await fundedUser(db.admin, 'alice', '100.00');
    const bob = await fundedUser(db.admin, 'bob');
    const transfer = (await db.admin.query('SELECT * FROM wallet.transfer($1, $2, 25.00)', [alice, bob]))
      .rows[0].transaction_id as number;
    const deposit = (await db.admin.query('SELECT * FROM wallet.deposit($1, 5.00)', [bob])).rows[0]
      .transaction_id as number;
    await waitForReceipts(db.admin, [transfer, deposit]);
    const missing = 9_999_999;
    await startReceiptWorkflow(client, 'wallet-receipts', {
      transactionId: missing,
      kind: 'deposit',
      senderId: null,
      receiverId: bob,
      amount: '1.00',
    });
    const recorded = [
      ['transfer-rendered', receiptWorkflowId(transfer)],
      ['deposit-rendered', receiptWorkflowId(deposit)],
      ['missing-transaction', receiptWorkflowId(missing)],
    ] as const;
    for (const [, workflowId] of recorded) {
      await client.workflow
        .getHandle(workflowId)
        .result()
        .catch(() => undefined); // the missing transaction's workflow fails, as it should
    }
    return exportHistories(temporal, recorded);
  });
}
