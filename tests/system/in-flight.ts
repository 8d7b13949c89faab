// Finding a render that is running right now, so a fault lands in the middle of one rather than next to an
// idle browser.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { receiptWorkflowId } from '../../src/temporal/start-receipt.js';
import { type RenderShape, renderInFlight, renderShape } from '../helpers/render-history.js';

/** How this system renders, read from the history of its latest rendered receipt (undefined before one). */
async function shapeInUse(db: pg.Pool, client: Client): Promise<RenderShape | undefined> {
  const { rows } = await db.query<{ id: number | null }>(
    "SELECT max(transaction_id)::int AS id FROM wallet.receipts WHERE status = 'rendered'",
  );
  const id = rows[0]?.id;
  if (!id) return undefined;
  return renderShape(await client.workflow.getHandle(receiptWorkflowId(id)).fetchHistory());
}

/**
 * The transaction id of a receipt whose render runs now; fails if none starts within `timeoutMs` (generous:
 * a worker restarted on a loaded 2-core machine can take most of a minute to poll).
 */
export async function waitForRenderInFlight(
  db: pg.Pool,
  client: Client,
  timeoutMs = 180_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const shape = await shapeInUse(db, client);
    // Every pending receipt with a workflow, not just the oldest: after an outage the oldest may sit in a
    // retry backoff while newer ones render.
    const { rows } = await db.query<{ transaction_id: number }>(
      `SELECT transaction_id FROM wallet.receipts
        WHERE status = 'pending' AND workflow_started_at IS NOT NULL ORDER BY transaction_id LIMIT 500`,
    );
    for (let i = 0; i < rows.length; i += 8) {
      const batch = rows.slice(i, i + 8).map((r) => r.transaction_id);
      const busy = await Promise.all(batch.map((id) => renderInFlight(client, receiptWorkflowId(id), shape)));
      const found = batch.find((_, k) => busy[k]);
      if (found !== undefined) return found;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no receipt render started within ${timeoutMs / 1000} s`);
}
