// Records the batch receipt workflow's replay fixtures from a real run (dev server, worker, Chromium,
// database): a batch printed whole (batch-rendered) and one whose middle item could not be printed and fell
// out to its own workflow (batch-fell-out). Used by replay.test.ts when RECORD_BATCH_HISTORIES=1; the JSON
// files are committed and replayed on every later run. Re-record only on purpose.
import { receiptBatchWorkflowId } from '../../src/temporal/start-receipt.js';
import { fundedUser } from '../helpers/database.js';
import { waitForReceipts } from '../helpers/receipt-worker.js';
import { exportHistories, withRecordingStack } from './recording-stack.js';

export function recordBatchHistories(): Promise<string[]> {
  const unprintable = new Set<number>();
  const failRender = (id: number) => unprintable.has(id);
  return withRecordingStack(
    async ({ db, temporal, client }) => {
      const batch = async (payer: number, payee: number, fail: boolean) => {
        const session = await db.admin.connect();
        try {
          await session.query('BEGIN');
          const { rows } = await session.query(
            "SELECT transaction_id FROM wallet.transfer_batch($1, ARRAY[$2, $2, $2]::bigint[], '{1.00,2.00,3.00}') ORDER BY item",
            [payer, payee],
          );
          if (fail) unprintable.add(rows[1].transaction_id);
          await session.query('COMMIT');
          return rows.map((r) => r.transaction_id as number);
        } finally {
          session.release();
        }
      };
      const alice = await fundedUser(db.admin, 'alice', '100.00');
      const bob = await fundedUser(db.admin, 'bob');
      const whole = await batch(alice, bob, false);
      const fellOut = await batch(alice, bob, true);
      await waitForReceipts(db.admin, [...whole, fellOut[0] as number, fellOut[2] as number]);
      const recorded = [
        ['batch-rendered', receiptBatchWorkflowId(whole[0] as number)],
        ['batch-fell-out', receiptBatchWorkflowId(fellOut[0] as number)],
      ] as const;
      for (const [, workflowId] of recorded) await client.workflow.getHandle(workflowId).result();
      const written = await exportHistories(temporal, recorded);
      unprintable.clear(); // the fallen-out receipt's own workflow completes before the worker stops
      await waitForReceipts(db.admin, fellOut);
      return written;
    },
    { failRender },
  );
}
