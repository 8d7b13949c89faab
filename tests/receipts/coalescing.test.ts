// Coalesced printing end to end, with a real Temporal dev server, Chromium and PostgreSQL: a burst of receipts
// is printed in fewer prints than receipts, yet every transaction gets its own correct one-page PDF, stored
// once; a receipt that cannot be printed fails alone, falls back to the ordinary activity
// (attempts and last error visible to an operator) and its neighbours are not held back.
import { execFileSync } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ReceiptWorker, startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { receiptWorkflowId } from '../../src/temporal/start-receipt.js';
import { pdfText } from '../helpers/chromium.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import {
  executionsOnceCompleted,
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
/**
 * The receipts each print carried, as far as the fault hook saw them: a print counts itself (counts.prints)
 * and then asks the hook about its receipts in order, up to the first unprintable one, before anything else
 * can start another print.
 */
const asked = new Map<number, number[]>();
function failRender(id: number): boolean {
  const print = worker.renderer.counts.prints;
  asked.set(print, [...(asked.get(print) ?? []), id]);
  return unprintable.has(id);
}

beforeAll(async () => {
  quietTemporalRuntime();
  db = await createTestDatabase();
  temporal = await startTestTemporal();
  worker = await startReceiptWorker({
    // The longest window the settings allow (the tests' default is 10 ms): receipts committed together reach
    // the renderer within it even on a loaded machine, so the burst shares prints whatever the timing, and the
    // unprintable receipt's first print always carries neighbours (what the second test is about).
    config: receiptConfig(temporal.address, { receiptCoalesceMs: 1000 }),
    databaseUrl: db.url,
    log: memoryLogger(),
    failRender,
  });
  client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
});

afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
  await temporal?.stop();
});

/** Two users, the sender funded, and every receipt so far (the funding deposit's) rendered. */
async function fundedPair(tag: string): Promise<[number, number]> {
  const pair: [number, number] = [
    await fundedUser(db.admin, `alice${tag}`, '1000.00'),
    await fundedUser(db.admin, `bob${tag}`),
  ];
  await waitForReceipts(db.admin);
  return pair;
}

/** Transfers committed together, so their receipts become visible to the dispatcher at the same moment. */
async function burst(
  [alice, bob]: [number, number],
  amounts: string[],
  beforeCommit: (ids: number[]) => void = () => {},
): Promise<number[]> {
  const session = await db.admin.connect();
  try {
    await session.query('BEGIN');
    const ids: number[] = [];
    for (const amount of amounts) {
      const { rows } = await session.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [
        alice,
        bob,
        amount,
      ]);
      ids.push(rows[0].transaction_id);
    }
    beforeCommit(ids);
    await session.query('COMMIT');
    return ids;
  } finally {
    session.release();
  }
}

async function activityEvents(id: number) {
  const events = (await client.workflow.getHandle(receiptWorkflowId(id)).fetchHistory()).events ?? [];
  return events.filter((e) => e.activityTaskScheduledEventAttributes);
}

it('prints a burst in fewer prints than receipts, one correct one-page PDF per transaction', async () => {
  const amounts = Array.from({ length: 20 }, (_, i) => `${i + 1}.${String(i).padStart(2, '0')}`);
  const pair = await fundedPair('burst');
  const before = { ...worker.renderer.counts };
  const ids = await burst(pair, amounts);
  const receipts = await waitForReceipts(db.admin, ids);

  const prints = worker.renderer.counts.prints - before.prints;
  expect(worker.renderer.counts.receipts - before.receipts).toBe(ids.length);
  expect(prints).toBeLessThan(ids.length); // counted, not timed: several receipts shared a print
  for (const [i, receipt] of receipts.entries()) {
    const pdf = receipt.pdf ?? Buffer.alloc(0);
    const text = pdfText(pdf);
    expect(text).toContain(`Transaction ${ids[i]}`);
    expect(text).toContain(`Amount ${amounts[i]}`);
    expect(execFileSync('pdfinfo', ['-'], { input: pdf, encoding: 'utf8' })).toMatch(/Pages:\s+1\b/);
  }
  for (const id of ids) {
    expect(await executionsOnceCompleted(client, id)).toHaveLength(1);
    expect(await client.workflow.getHandle(receiptWorkflowId(id)).result()).toMatchObject({
      storedNow: true,
    });
  }
});

it('fails an unprintable receipt alone: its neighbours complete, it retries visibly, then completes', async () => {
  let bad = 0;
  const ids = await burst(await fundedPair('faulty'), ['1.11', '2.22', '3.33', '4.44', '5.55'], (ids) => {
    bad = ids[2] ?? 0;
    unprintable.add(bad);
  });
  const neighbours = ids.filter((id) => id !== bad);
  await waitForReceipts(db.admin, neighbours);
  // It shared a print with neighbours: some print asked about a neighbour, then about it.
  const prints = [...asked.values()].filter((print) => print.some((id) => ids.includes(id)));
  const shared = prints.filter((print) => print.includes(bad) && print.some((id) => neighbours.includes(id)));
  expect(shared.length, `prints seen: ${JSON.stringify(prints)}`).toBeGreaterThan(0);
  for (const id of neighbours) {
    expect(await client.workflow.getHandle(receiptWorkflowId(id)).result()).toMatchObject({
      storedNow: true,
    });
    // Nothing of the injected failure reached them (a fallback, if an overloaded machine forced one, was
    // never for that reason).
    const history = JSON.stringify(
      (await client.workflow.getHandle(receiptWorkflowId(id)).fetchHistory()).events ?? [],
    );
    expect(history).not.toContain('injected render failure');
  }

  // What an operator sees for the unprintable one: an ordinary activity, retrying, with the last error.
  const pending = await waitFor('a second attempt of the fallback print', async () => {
    const description = await client.workflow.getHandle(receiptWorkflowId(bad)).describe();
    const activity = description.raw.pendingActivities?.[0];
    return activity && (activity.attempt ?? 0) >= 2 ? activity : undefined;
  });
  expect(pending.activityType?.name).toBe('printReceiptAlone');
  expect(pending.lastFailure?.message).toContain(`injected render failure for transaction ${bad}`);
  const [stillPending] = await db.admin
    .query('SELECT status FROM wallet.receipts WHERE transaction_id = $1', [bad])
    .then((r) => r.rows);
  expect(stillPending.status).toBe('pending');

  unprintable.delete(bad); // the document is fixed: the next attempt prints it
  const [receipt] = await waitForReceipts(db.admin, [bad]);
  expect(pdfText(receipt?.pdf ?? Buffer.alloc(0))).toContain(`Transaction ${bad}`);
  expect(await client.workflow.getHandle(receiptWorkflowId(bad)).result()).toMatchObject({ storedNow: true });
  expect(await executionsOnceCompleted(client, bad)).toHaveLength(1);
  const scheduled = await activityEvents(bad);
  expect(scheduled.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)).toEqual([
    'printReceiptAlone',
  ]);
}, 120_000);
