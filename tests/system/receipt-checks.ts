// "Every receipt rendered exactly once", checked where a second render would show: in Temporal. The stored
// row cannot tell (a second store is absorbed by its `status = 'pending'` guard), the workflows can: one
// receiptWorkflow execution per transaction, completed, whose result says it stored the PDF itself.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type pg from 'pg';
import type { StoredReceipt } from '../../src/activities/index.js';
import { TransactionIdKey } from '../../src/temporal/search-attributes.js';
import { pdfText } from '../helpers/chromium.js';

const RECEIPT_WORKFLOWS = "WorkflowType = 'receiptWorkflow'";
const SAMPLE = 5;

/** Receipt workflows not completed, running ones included (after a drain nothing may still run). */
export async function stuckWorkflows(client: Client): Promise<number> {
  const { count } = await client.workflow.count(`${RECEIPT_WORKFLOWS} AND ExecutionStatus != 'Completed'`);
  return count;
}

/** Waits (visibility lags, and a workflow completes just after it stored its PDF) until none is running. */
async function settled(client: Client, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { count } = await client.workflow.count(`${RECEIPT_WORKFLOWS} AND ExecutionStatus = 'Running'`);
    if (count === 0 || Date.now() > deadline) return count;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * The executions that report storing the PDF (storedNow). It is per execution: every attempt of the run whose
 * print was stored says true (a retry after a lost workflow task or a killed worker is no second receipt),
 * every other execution false. So exactly one per transaction, and it must be the run the database names.
 */
async function storingRuns(client: Client, executions: WorkflowExecutionInfo[]): Promise<string[]> {
  const runs: string[] = [];
  for (const e of executions) {
    if (e.status.name !== 'COMPLETED') continue;
    const result: StoredReceipt = await client.workflow.getHandle(e.workflowId, e.runId).result();
    if (result.storedNow) runs.push(e.runId);
  }
  return runs;
}

/** Problems with the receipts of transactions after `afterTransactionId`, as Temporal and pdftotext see them. */
export async function checkReceiptWorkflows(
  db: pg.Pool,
  client: Client,
  afterTransactionId: number,
): Promise<string[]> {
  const problems: string[] = [];
  const running = await settled(client);
  if (running > 0) problems.push(`${running} receipt workflows still running after the drain`);
  const stuck = await stuckWorkflows(client);
  if (stuck > running) problems.push(`${stuck - running} receipt workflows failed, terminated or timed out`);
  const byTransaction = new Map<number, WorkflowExecutionInfo[]>();
  const query = `${RECEIPT_WORKFLOWS} AND TransactionId > ${afterTransactionId}`;
  for await (const execution of client.workflow.list({ query })) {
    const id = Number(execution.typedSearchAttributes.get(TransactionIdKey));
    byTransaction.set(id, [...(byTransaction.get(id) ?? []), execution]);
  }
  const { rows } = await db.query<{ id: number }>(
    'SELECT id FROM wallet.transactions WHERE id > $1 ORDER BY id',
    [afterTransactionId],
  );
  const ids = rows.map((r) => r.id);
  const renderedBy = new Map(
    (
      await db.query<{ transaction_id: number; rendered_by: string | null }>(
        'SELECT transaction_id, rendered_by FROM wallet.receipts WHERE transaction_id > $1',
        [afterTransactionId],
      )
    ).rows.map((r) => [r.transaction_id, r.rendered_by]),
  );
  for (let i = 0; i < ids.length; i += 8) {
    const batch = ids.slice(i, i + 8);
    const stored = await Promise.all(batch.map((id) => storingRuns(client, byTransaction.get(id) ?? [])));
    batch.forEach((id, k) => {
      const runs = (byTransaction.get(id) ?? []).map((e) => e.status.name);
      const storing = stored[k] ?? [];
      if (
        runs.length !== 1 ||
        runs[0] !== 'COMPLETED' ||
        storing.length !== 1 ||
        storing[0] !== renderedBy.get(id)
      )
        problems.push(
          `transaction ${id}: executions ${JSON.stringify(runs)}, stored by ${storing.length} of them ` +
            `(${storing.join(', ')}), the database names ${renderedBy.get(id) ?? 'none'}`,
        );
    });
  }
  const known = new Set(ids);
  for (const id of byTransaction.keys())
    if (!known.has(id)) problems.push(`receipt workflow for unknown transaction ${id}`);
  return [...problems, ...(await sampleText(db, ids))];
}

/** A spread of the run's receipts, read back with pdftotext: each shows its own transaction id. */
async function sampleText(db: pg.Pool, ids: number[]): Promise<string[]> {
  const step = Math.max(1, Math.floor(ids.length / SAMPLE));
  const sample = ids.filter((_, i) => i % step === 0).slice(0, SAMPLE);
  const { rows } = await db.query<{ transaction_id: number; pdf: Buffer | null }>(
    'SELECT transaction_id, pdf FROM wallet.receipts WHERE transaction_id = ANY($1)',
    [sample],
  );
  return rows
    .filter((r) => !r.pdf || !pdfText(r.pdf).includes(`Transaction ${r.transaction_id}`))
    .map((r) => `transaction ${r.transaction_id}: the PDF does not show "Transaction ${r.transaction_id}"`);
}

/** Storage integrity (not "once": store_receipt_pdf computes the hash from the bytes it stores). */
export async function checkReceiptStorage(db: pg.Pool): Promise<string[]> {
  const { rows } = await db.query(`
    SELECT t.id, r.status, r.pdf_size, r.pdf_sha256 = encode(sha256(r.pdf), 'hex') AS hash_ok
      FROM wallet.transactions t LEFT JOIN wallet.receipts r ON r.transaction_id = t.id
     WHERE r.status IS DISTINCT FROM 'rendered' OR r.pdf_size IS NULL OR r.pdf_size = 0
        OR r.pdf_size IS DISTINCT FROM length(r.pdf) OR r.pdf_sha256 IS DISTINCT FROM encode(sha256(r.pdf), 'hex')`);
  return rows.map(
    (r) =>
      `transaction ${r.id}: receipt ${r.status ?? 'missing'}, ${r.pdf_size ?? 0} bytes, hash ok: ${r.hash_ok}`,
  );
}
