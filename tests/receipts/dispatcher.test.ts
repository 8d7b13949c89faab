// The dispatcher against a real database: NOTIFY-triggered sweeps, reconnecting its LISTEN connection,
// logging a Temporal outage once, and several dispatchers sharing the work through SKIP LOCKED. Starts go to
// a recording fake client (the real Temporal paths are in receipt-worker, temporal-outage and worker-crash).
import { Client, Connection, type WorkflowStartOptions } from '@temporalio/client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/net/free-port.js';
import { ReceiptDispatcher } from '../../src/receipts/dispatcher.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { memoryLogger, receiptRows, waitFor } from '../helpers/receipt-worker.js';

const HOUR = 3_600_000;

/**
 * A stand-in for the Temporal client: records starts; `gate` can hold them until the test releases it;
 * `running` is what it answers when asked how many receipt workflows run.
 */
function recordingClient(gate?: Promise<void>, running: () => number = () => 0) {
  const started: WorkflowStartOptions[] = [];
  const queries: string[] = [];
  const client = {
    withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn(),
    workflow: {
      async start(_type: string, options: WorkflowStartOptions) {
        await gate;
        started.push(options);
        return { workflowId: options.workflowId };
      },
      async count(query: string) {
        queries.push(query);
        return { count: running(), groups: [] };
      },
    },
  } as unknown as Client;
  return {
    client,
    started,
    queries,
    ids: () => started.map((s) => Number(s.workflowId.replace('receipt-', ''))),
  };
}

let db: TestDatabase;
let alice: number;
let bob: number;
const running: ReceiptDispatcher[] = [];

function dispatcher(temporal: () => Promise<Client>, log = memoryLogger(), maxInFlight?: number) {
  const d = new ReceiptDispatcher({
    pool: db.app,
    listenUrl: db.url,
    temporal,
    taskQueue: 'wallet-receipts',
    sweepMs: HOUR,
    log,
    startTimeoutMs: 1_000,
    maxInFlight,
    recountMs: HOUR, // deterministic: Temporal is asked once, then the estimate rules
  });
  running.push(d);
  return d;
}

async function transfer(amount = '1.00'): Promise<number> {
  const { rows } = await db.admin.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [
    alice,
    bob,
    amount,
  ]);
  return rows[0].transaction_id;
}

/** Marks every receipt so far as started, so each test sees only its own. */
async function settle(): Promise<void> {
  await db.admin.query(
    'UPDATE wallet.receipts SET workflow_started_at = now() WHERE workflow_started_at IS NULL',
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  alice = await fundedUser(db.admin, 'alice', '1000.00');
  bob = await fundedUser(db.admin, 'bob');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
  await settle();
});

describe('receipt dispatcher', () => {
  it('starts the workflow of a transfer made in SQL as soon as it is notified', async () => {
    const fake = recordingClient();
    const log = memoryLogger();
    const d = dispatcher(async () => fake.client, log); // hourly sweeps: only the NOTIFY can trigger this
    d.start();
    await waitFor('the first sweep', () => d.stats.sweeps >= 1);
    const id = await transfer('2.50');
    await waitFor('the start', () => fake.ids().includes(id));
    const options = fake.started.find((s) => s.workflowId === `receipt-${id}`);
    expect(options).toMatchObject({ taskQueue: 'wallet-receipts', args: [{ transactionId: id }] });
    expect(options?.memo).toEqual({ amount: '2.50', kind: 'transfer' });
    const row = await waitFor('the mark', async () => {
      const [r] = await receiptRows(db.admin, [id]);
      return r?.workflow_started_at ? r : undefined;
    });
    expect(row.status).toBe('pending'); // started, not yet rendered: rendering is the worker's job
  });

  it('collapses a burst of notifications into a few sweeps that start each receipt once', async () => {
    const fake = recordingClient();
    const d = dispatcher(async () => fake.client);
    d.start();
    await waitFor('the first sweep', () => d.stats.sweeps >= 1);
    const sweepsBefore = d.stats.sweeps;
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) ids.push(await transfer());
    await waitFor('all starts', () => ids.every((id) => fake.ids().includes(id)));
    expect(fake.ids().filter((id) => ids.includes(id))).toHaveLength(ids.length);
    expect(d.stats.sweeps - sweepsBefore).toBeLessThan(ids.length);
  });

  it('listens again after its connection is killed, and catches up on what it missed', async () => {
    const fake = recordingClient();
    const log = memoryLogger();
    const d = dispatcher(async () => fake.client, log);
    d.start();
    await waitFor('LISTEN', async () => {
      const { rows } = await db.admin.query(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'wallet-receipt-dispatcher' AND datname = current_database()",
      );
      return rows.length > 0;
    });
    // What a database restart does to the connection, without restarting the shared test server.
    await db.admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'wallet-receipt-dispatcher' AND datname = current_database()",
    );
    const missed = await transfer(); // its NOTIFY goes nowhere: nobody listens right now
    await waitFor('the reconnect', () =>
      log.lines.some((l) => l.includes('listening for new receipts again')),
    );
    await waitFor('the missed receipt', () => fake.ids().includes(missed));
    const later = await transfer();
    await waitFor('a receipt after the reconnect', () => fake.ids().includes(later));
    expect(log.lines.filter((l) => l.includes('LISTEN connection lost'))).toHaveLength(1);
  });

  it('logs a Temporal outage once, keeps the receipts unstarted, and resumes when it is back', async () => {
    const log = memoryLogger();
    // A real client for a port where nothing listens: the errors are the real ones.
    const down = new Client({
      connection: Connection.lazy({ address: `127.0.0.1:${await findFreePort()}` }),
    });
    const fake = recordingClient();
    let current = down;
    const d = dispatcher(async () => current, log);
    const ids = [await transfer(), await transfer()];

    for (let i = 0; i < 3; i++) expect((await d.sweepOnce()).started).toBe(0);
    expect(log.lines.filter((l) => l.includes('Temporal unreachable'))).toHaveLength(1);
    expect((await receiptRows(db.admin, ids)).map((r) => r.workflow_started_at)).toEqual([null, null]);

    current = fake.client;
    expect((await d.sweepOnce()).started).toBe(2);
    expect(fake.ids()).toEqual(ids);
    expect(log.lines.filter((l) => l.includes('Temporal reachable again'))).toHaveLength(1);
    await down.connection.close();
  });

  it('shares the work with another dispatcher without starting any receipt twice', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const a = recordingClient(gate);
    const b = recordingClient(gate);
    const first = dispatcher(async () => a.client);
    const second = dispatcher(async () => b.client);
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push(await transfer());

    // The first holds its claimed rows (its starts are stuck); the second skips them and claims none.
    const one = first.sweepOnce();
    await waitFor('the first claim', async () => {
      const { rows } = await db.admin.query(
        "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'receipts' AND l.mode = 'RowShareLock'",
      );
      return rows.length > 0;
    });
    const two = await second.sweepOnce();
    expect(two.claimed).toBe(0);
    release();
    const oneResult = await one;
    expect(oneResult.started + two.started).toBe(ids.length);
    expect([...a.ids(), ...b.ids()].sort((x, y) => x - y)).toEqual(ids);
  });

  it('keeps at most maxInFlight receipt workflows running; the rest wait in the outbox', async () => {
    let completed = 0;
    const fake = recordingClient(undefined, () => fake.started.length - completed);
    const d = dispatcher(async () => fake.client, memoryLogger(), 3);
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) ids.push(await transfer());

    expect(await d.sweepOnce()).toMatchObject({ claimed: 3, started: 3 });
    expect(await d.sweepOnce()).toMatchObject({ claimed: 0, started: 0 }); // full: nothing claimed
    expect(d.stats.windowFull).toBe(1);
    const rows = await receiptRows(db.admin, ids);
    expect(rows.filter((r) => r.workflow_started_at === null)).toHaveLength(4);

    // Two receipts rendered in this process: two places free, without asking Temporal again.
    completed = 2;
    d.receiptDone();
    d.receiptDone();
    expect(await d.sweepOnce()).toMatchObject({ claimed: 2, started: 2 });
    completed = 5;
    for (let i = 0; i < 3; i++) d.receiptDone();
    expect(await d.sweepOnce()).toMatchObject({ claimed: 2, started: 2 });
    expect(fake.ids()).toEqual(ids); // oldest first
    // Temporal's count is asked once per recountMs; in between the dispatcher keeps its own estimate.
    expect(fake.queries).toEqual([
      "WorkflowType = 'receiptWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = 'wallet-receipts'",
    ]);
  });

  it('logs a database outage once and recovers on its own', async () => {
    const log = memoryLogger();
    const { createPool } = await import('../../src/db/pool.js');
    const nowhere = createPool({ url: `postgres://nobody@127.0.0.1:${await findFreePort()}/none` });
    const d = new ReceiptDispatcher({
      pool: nowhere,
      listenUrl: db.url,
      temporal: async () => recordingClient().client,
      taskQueue: 'wallet-receipts',
      sweepMs: HOUR,
      log,
    });
    try {
      for (let i = 0; i < 3; i++) expect((await d.sweepOnce()).failed).toBe(1);
      expect(log.lines.filter((l) => l.includes('cannot reach the database'))).toHaveLength(1);
    } finally {
      await nowhere.end();
    }
  });
});
