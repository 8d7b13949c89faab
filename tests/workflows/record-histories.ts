// Records the replay fixtures from a real run: a real dev server, worker, Chromium and database. Used by
// replay.test.ts when RECORD_RECEIPT_HISTORIES=1; the JSON files it writes are committed and replayed on
// every later run. Re-record only on purpose (a deliberate, versioned change to the workflow).
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { receiptWorkflowId, startReceiptWorkflow } from '../../src/temporal/start-receipt.js';
import { createTestDatabase, fundedUser } from '../helpers/database.js';
import { receiptConfig, silentLogger, waitForReceipts } from '../helpers/receipt-worker.js';
import { startTestTemporal } from '../helpers/temporal.js';

export const FIXTURES = new URL('./fixtures/', import.meta.url);

export async function recordHistories(): Promise<string[]> {
  const db = await createTestDatabase();
  const temporal = await startTestTemporal();
  const worker = await startReceiptWorker({
    config: receiptConfig(temporal.address),
    databaseUrl: db.url,
    log: silentLogger,
  });
  const client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
  try {
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
    await client.workflow
      .getHandle(receiptWorkflowId(missing))
      .result()
      .catch(() => undefined);

    const written: string[] = [];
    for (const [name, id] of [
      ['transfer-rendered', transfer],
      ['deposit-rendered', deposit],
      ['missing-transaction', missing],
    ] as const) {
      const handle = client.workflow.getHandle(receiptWorkflowId(id));
      await handle.result().catch(() => undefined);
      // Exported the way an operator would: `temporal workflow show --output json`.
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
    return written;
  } finally {
    await worker.stop();
    await client.connection.close();
    await temporal.stop();
  }
}
