// Records the batch receipt workflow's replay fixtures from a real run (dev server, worker, Chromium,
// database): a batch printed whole (batch-rendered) and one whose middle item could not be printed and fell
// out to its own workflow (batch-fell-out). Used by replay.test.ts when RECORD_BATCH_HISTORIES=1; the JSON
// files are committed and replayed on every later run. Re-record only on purpose.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { receiptBatchWorkflowId } from '../../src/temporal/start-receipt.js';
import { createTestDatabase, fundedUser } from '../helpers/database.js';
import { receiptConfig, silentLogger, waitForReceipts } from '../helpers/receipt-worker.js';
import { startTestTemporal } from '../helpers/temporal.js';
import { FIXTURES } from './record-histories.js';

export async function recordBatchHistories(): Promise<string[]> {
  const db = await createTestDatabase();
  const temporal = await startTestTemporal();
  const unprintable = new Set<number>();
  const worker = await startReceiptWorker({
    config: receiptConfig(temporal.address),
    databaseUrl: db.url,
    log: silentLogger,
    failRender: (id) => unprintable.has(id),
  });
  const client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
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
  try {
    const alice = await fundedUser(db.admin, 'alice', '100.00');
    const bob = await fundedUser(db.admin, 'bob');
    const whole = await batch(alice, bob, false);
    const fellOut = await batch(alice, bob, true);
    await waitForReceipts(db.admin, [...whole, fellOut[0] as number, fellOut[2] as number]);
    const written: string[] = [];
    for (const [name, first] of [
      ['batch-rendered', whole[0]],
      ['batch-fell-out', fellOut[0]],
    ] as const) {
      const handle = client.workflow.getHandle(receiptBatchWorkflowId(first as number));
      await handle.result();
      const json = execFileSync(
        resolveTemporalCli(),
        [
          'workflow',
          'show',
          '--workflow-id',
          handle.workflowId,
          '--address',
          temporal.address,
          '--output',
          'json',
        ],
        { encoding: 'utf8' },
      );
      const file = new URL(`${name}.json`, FIXTURES);
      await writeFile(file, `${JSON.stringify(JSON.parse(json), null, 2)}\n`);
      written.push(file.pathname);
    }
    unprintable.clear(); // the fallen-out receipt's own workflow completes before the worker stops
    await waitForReceipts(db.admin, fellOut);
    return written;
  } finally {
    await worker.stop();
    await client.connection.close();
    await temporal.stop();
  }
}
