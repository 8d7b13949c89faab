// The dispatcher against a real Temporal dev server: the in-flight window (counted by the database) with slow
// renders (real worker, real Chromium), checked against when Temporal started each workflow and when its PDF
// was stored; and starts the server refuses (INVALID_ARGUMENT) met with backoff and one log line, not one per
// receipt.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type DispatcherOptions, ReceiptDispatcher } from '../../src/receipts/dispatcher.js';
import { startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { defaultBurst } from '../../src/receipts/token-bucket.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import {
  memoryLogger,
  quietTemporalRuntime,
  receiptConfig,
  receiptRows,
  waitFor,
  waitForReceipts,
} from '../helpers/receipt-worker.js';
import { startTestTemporal } from '../helpers/temporal.js';

let db: TestDatabase;
let temporal: DevServer;
let client: Client;
let alice: number;
let bob: number;

async function transfers(n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const { rows } = await db.admin.query('SELECT * FROM wallet.transfer($1, $2, 1.00)', [alice, bob]);
    ids.push(rows[0].transaction_id);
  }
  return ids;
}

/** Marks every receipt so far (the funding deposit's) as started, so each test sees only its own. */
async function settle(): Promise<void> {
  await db.admin.query(
    'UPDATE wallet.receipts SET workflow_started_at = now() WHERE workflow_started_at IS NULL',
  );
}

/** The most intervals open at one instant (an end and a start at one instant: the end first). */
function mostAtOnce(intervals: { start: Date; end: Date }[]): number {
  const edges = intervals.flatMap((e) => [
    { at: e.start.getTime(), step: 1 },
    { at: e.end.getTime(), step: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.step - b.step); // a close and a start at one instant: close first
  let open = 0;
  let most = 0;
  for (const edge of edges) {
    open += edge.step;
    most = Math.max(most, open);
  }
  return most;
}

beforeAll(async () => {
  quietTemporalRuntime();
  db = await createTestDatabase();
  alice = await fundedUser(db.admin, 'alice', '1000.00');
  bob = await fundedUser(db.admin, 'bob');
  temporal = await startTestTemporal();
  client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
});

afterAll(async () => {
  await client?.connection.close();
  await temporal?.stop();
});

describe('receipt dispatcher with a real Temporal server', () => {
  it('keeps at most maxInFlight receipts between their workflow start and their stored PDF', async () => {
    const queue = 'window-receipts';
    const log = memoryLogger();
    await transfers(7); // a backlog before the worker starts
    // Every pending receipt, the funding deposit's too: a receipt marked started (settle()) without a workflow
    // would hold a place in the window, as a receipt whose workflow Temporal lost does until it is restarted.
    const { rows } = await db.admin.query<{ id: number }>(
      "SELECT transaction_id AS id FROM wallet.receipts WHERE status = 'pending' ORDER BY 1",
    );
    const ids = rows.map((r) => r.id);
    expect(ids.length).toBeGreaterThanOrEqual(7);
    const worker = await startReceiptWorker({
      config: receiptConfig(temporal.address, { receiptTaskQueue: queue, receiptSweepMs: 100 }),
      databaseUrl: db.url,
      renderDelayMs: 800, // slow renders: the window, not the renderer, bounds what runs
      maxInFlight: 2,
      log,
    });
    let executions: { workflowId: string; startTime: Date; closeTime?: Date }[];
    try {
      await waitForReceipts(db.admin, ids, 120_000);
      // Before the worker stops: each workflow's last task (completing it) needs the worker.
      executions = await waitFor('every execution closed in visibility', async () => {
        const found = [];
        for await (const e of client.workflow.list({ query: `TaskQueue = '${queue}'` })) found.push(e);
        return found.length === ids.length && found.every((e) => e.closeTime) ? found : undefined;
      });
    } finally {
      await worker.stop();
    }
    // From Temporal's start (after the claim the window counts from) to the stored PDF (when the database's
    // count lets it go): one clock, this machine's, for both.
    const stored = new Map((await receiptRows(db.admin, ids)).map((r) => [`receipt-${r.transaction_id}`, r]));
    const inFlight = executions.map((e) => ({
      start: e.startTime,
      end: stored.get(e.workflowId)?.rendered_at as Date,
    }));
    expect(inFlight.every((i) => i.end instanceof Date)).toBe(true);
    expect(mostAtOnce(inFlight)).toBe(2); // never 3; and 2 is reached, so the bound is what held
    // Held by the window, not by failures: nothing went wrong on the way (the worker logs here too).
    expect(log.lines.filter((l) => l.startsWith('error '))).toEqual([]);
  }, 180_000);

  it('starts at most RECEIPT_MAX_PER_SECOND workflows a second, by the start times Temporal recorded', async () => {
    const queue = 'capped-receipts';
    const log = memoryLogger();
    await settle();
    const ids = await transfers(24);
    // The cap as an operator sets it: the environment variable, read by the real config loader.
    const { receiptMaxPerSecond: rate } = loadConfig({ RECEIPT_MAX_PER_SECOND: '4' }, 'worker');
    expect(rate).toBe(4);
    const burst = defaultBurst(rate);
    const worker = await startReceiptWorker({
      config: receiptConfig(temporal.address, {
        receiptTaskQueue: queue,
        receiptSweepMs: 50,
        receiptMaxPerSecond: rate,
      }),
      databaseUrl: db.url,
      log,
    });
    let starts: number[];
    try {
      await waitForReceipts(db.admin, ids, 120_000);
      starts = await waitFor('every capped execution in visibility', async () => {
        const found: number[] = [];
        for await (const e of client.workflow.list({ query: `TaskQueue = '${queue}'` }))
          found.push(e.startTime.getTime());
        return found.length === ids.length ? found.sort((x, y) => x - y) : undefined;
      });
    } finally {
      await worker.stop();
    }
    // A token bucket lets through at most burst + rate * W starts in any W seconds. Temporal stamps a start
    // when the request reaches it, up to a network hop after the dispatcher took its token: half a second
    // of slack for that hop. A slow machine only spreads the starts out; it cannot make more fit a window.
    const slack = 0.5;
    const window = 1_000;
    const span = (starts.at(-1) ?? 0) - (starts[0] ?? 0);
    const most = Math.max(...starts.map((t) => starts.filter((u) => u >= t && u < t + window).length));
    console.log(`[rate-cap] ${starts.length} starts over ${span} ms, most in 1 s: ${most}`);
    expect(most).toBeLessThanOrEqual(Math.floor(burst + rate * (window / 1000 + slack)));
    // And the cap paced the whole backlog: 24 starts need at least (24 - burst) / rate seconds of tokens.
    expect(span).toBeGreaterThanOrEqual(((ids.length - burst) / rate - slack) * 1000);
    expect(log.lines.filter((l) => l.startsWith('error '))).toEqual([]);
  }, 180_000);

  it('backs off on starts the server refuses, logs it once, reports it, and resumes', async () => {
    const log = memoryLogger();
    const options: DispatcherOptions = {
      pool: db.worker,
      temporal: async () => client,
      taskQueue: 'q'.repeat(1001), // over the server's length limit: INVALID_ARGUMENT for every start
      idlePollMs: 3_600_000,
      log,
    };
    const d = new ReceiptDispatcher(options);
    await db.admin.query(
      'UPDATE wallet.receipts SET workflow_started_at = now() WHERE workflow_started_at IS NULL',
    );
    const ids = await transfers(5);
    const retries: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const result = await d.sweepOnce();
      expect(result).toMatchObject({ claimed: 5, started: 0, failed: 5 }); // each failed start freed its lease
      retries.push(result.retryInMs);
    }
    expect(retries).toEqual([250, 500, 1000, 2000]);
    const refused = log.lines.filter((l) => l.includes('cannot start receipt workflows'));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/INVALID_ARGUMENT|length/i);
    expect(d.state()).toMatchObject({ status: 'failing', kind: 'start', attempts: 4, retryInMs: 2000 });
    const rows = await receiptRows(db.admin, ids);
    expect(rows.map((r) => r.workflow_started_at)).toEqual(ids.map(() => null));

    options.taskQueue = 'nobody-polls-this-queue'; // the operator fixed it
    expect(await d.sweepOnce()).toMatchObject({ claimed: 5, started: 5, failed: 0 });
    expect(d.state()).toEqual({ status: 'starting' });
    expect(log.lines.filter((l) => l.includes('receipt workflows start again'))).toHaveLength(1);
    expect(log.lines).toHaveLength(2);
  });
});
