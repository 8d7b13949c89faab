// The dispatcher against a real database: the poll that replaces NOTIFY, the lease (no row lock held while
// starts are in flight, a dead claimer's receipts taken over, no receipt started twice), the rate cap counted
// on an injected clock (a batch's receipts as one start that takes a token each), and a database outage
// logged once and healed. Starts go to a recording client; the
// real Temporal paths (window, refused starts) are in dispatcher-temporal.test.ts.
import net from 'node:net';
import type { Client, WorkflowStartOptions } from '@temporalio/client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ledger } from '../../src/db/ledger.js';
import { createPool } from '../../src/db/pool.js';
import { findFreePort } from '../../src/net/free-port.js';
import { type DispatcherOptions, ReceiptDispatcher } from '../../src/receipts/dispatcher.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { memoryLogger, receiptRows, waitFor } from '../helpers/receipt-worker.js';

const HOUR = 3_600_000;

/** A stand-in for the Temporal client: records starts; `gate` can hold them until the test releases it. */
function recordingClient(gate?: Promise<void>) {
  const started: WorkflowStartOptions[] = [];
  let entered = 0;
  const client = {
    withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn(),
    workflow: {
      async start(_type: string, options: WorkflowStartOptions) {
        entered++;
        await gate;
        started.push(options);
        return { workflowId: options.workflowId };
      },
    },
  } as unknown as Client;
  return {
    client,
    entered: () => entered,
    ids: () => started.map((s) => Number(s.workflowId.replace('receipt-', ''))),
    starts: () => started,
  };
}

function gate() {
  let release: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

let db: TestDatabase;
let alice: number;
let bob: number;
const running: ReceiptDispatcher[] = [];

function dispatcher(client: Client, extra: Partial<DispatcherOptions> = {}) {
  const d = new ReceiptDispatcher({
    pool: db.worker,
    temporal: async () => client,
    taskQueue: 'wallet-receipts',
    idlePollMs: HOUR, // only a test's own sweepOnce() claims, unless a test asks for polling
    log: memoryLogger(),
    startTimeoutMs: 1_000,
    ...extra,
  });
  running.push(d);
  return d;
}

async function transfers(n: number, amount = '1.00'): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const { rows } = await db.admin.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [
      alice,
      bob,
      amount,
    ]);
    ids.push(rows[0].transaction_id);
  }
  return ids;
}

async function leases(ids: number[]) {
  const { rows } = await db.admin.query(
    'SELECT claimed_by, claimed_at, workflow_started_at FROM wallet.receipts WHERE transaction_id = ANY ($1) ORDER BY 1',
    [ids],
  );
  return rows as { claimed_by: string | null; claimed_at: Date | null; workflow_started_at: Date | null }[];
}

beforeAll(async () => {
  db = await createTestDatabase();
  alice = await fundedUser(db.admin, 'alice', '100000.00');
  bob = await fundedUser(db.admin, 'bob');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
  // Every receipt so far counts as started, so each test sees only its own.
  await db.admin.query(
    'UPDATE wallet.receipts SET workflow_started_at = now() WHERE workflow_started_at IS NULL',
  );
});

describe('receipt dispatcher', () => {
  it('finds a transfer made in SQL by polling (no NOTIFY), starts it once and marks it', async () => {
    const fake = recordingClient();
    const d = dispatcher(fake.client, { idlePollMs: 50 });
    d.start();
    await waitFor('an idle poll', () => d.stats.sweeps >= 3);
    const [id] = (await transfers(1, '2.50')) as [number];
    await waitFor('the start', () => fake.ids().includes(id));
    const row = await waitFor('the mark', async () => {
      const [r] = await receiptRows(db.admin, [id]);
      return r?.workflow_started_at ? r : undefined;
    });
    expect(row.status).toBe('pending'); // started, not yet rendered: rendering is the worker's job
    expect(await leases([id])).toEqual([
      { claimed_by: d.claimer, claimed_at: null, workflow_started_at: row.workflow_started_at },
    ]);
    expect(fake.ids().filter((x) => x === id)).toHaveLength(1);
    expect(d.state()).toEqual({ status: 'starting' });
  });

  it('holds no row lock while its starts are in flight: the claim is a lease committed at once', async () => {
    const held = gate();
    const fake = recordingClient(held.promise);
    const d = dispatcher(fake.client);
    const ids = await transfers(3);
    const sweep = d.sweepOnce();
    await waitFor('the starts to be in flight', () => fake.entered() >= 1);

    const { rows } = await db.admin.query(
      `SELECT l.pid, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE c.relname = 'receipts' AND l.pid <> pg_backend_pid()
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(rows).toEqual([]);
    // What used to wait behind the claim: storing a PDF and the API's mark, with a lock timeout as the probe.
    const probe = await db.client('wallet_worker');
    await probe.query("SET lock_timeout = '2s'");
    await probe.query('SELECT * FROM wallet.store_receipt_pdf($1, $2)', [ids[0], Buffer.from('%PDF-probe')]);
    expect(await ledger.markReceiptsStarted(probe, [ids[1] as number])).toBe(1);
    expect((await leases([ids[2] as number]))[0]).toMatchObject({ claimed_by: d.claimer });

    held.release();
    expect(await sweep).toMatchObject({ claimed: 3, started: 3, failed: 0 });
  });

  it("takes over a dead dispatcher's claim once its lease has run out", async () => {
    const never = gate(); // the first dispatcher's starts never return: as good as killed after its claim
    const dead = recordingClient(never.promise);
    const first = dispatcher(dead.client, { leaseMs: 3_000, claimer: 'dead-dispatcher' });
    const ids = await transfers(4);
    void first.sweepOnce();
    await waitFor('the dead claim', () => dead.entered() >= 1);
    expect((await leases(ids)).map((l) => l.claimed_by)).toEqual(ids.map(() => 'dead-dispatcher'));

    const alive = recordingClient();
    const second = dispatcher(alive.client, { leaseMs: 3_000 });
    expect(await second.sweepOnce()).toMatchObject({ claimed: 0 }); // the lease is still live
    await waitFor('the takeover', async () => (await second.sweepOnce()).claimed > 0);
    expect(alive.ids()).toEqual(ids);
    expect((await leases(ids)).every((l) => l.claimed_by === second.claimer && l.workflow_started_at)).toBe(
      true,
    );
    running.splice(running.indexOf(first), 1); // it never finishes: nothing to stop
  });

  it('leaves a receipt the API is starting to the API, and takes it over if the API never marks it', async () => {
    const api = createPool({ url: db.url, role: 'wallet_app', startsReceiptWorkflows: true, max: 1 });
    const fake = recordingClient();
    const d = dispatcher(fake.client, { leaseMs: 3_000 });
    try {
      const { rows } = await api.query('SELECT * FROM wallet.transfer($1, $2, 1.00)', [alice, bob]);
      const id: number = rows[0].transaction_id;
      expect((await leases([id]))[0]).toMatchObject({ claimed_by: 'api', workflow_started_at: null });
      expect(await d.sweepOnce()).toMatchObject({ claimed: 0 }); // the API's start is under way
      await waitFor('the takeover', async () => (await d.sweepOnce()).claimed > 0); // the API died meanwhile
      expect(fake.ids()).toEqual([id]);
    } finally {
      await api.end();
    }
  });

  it('never starts a receipt twice with four dispatchers polling at once', async () => {
    const fakes = [0, 1, 2, 3].map(() => recordingClient());
    const ds = fakes.map((f) => dispatcher(f.client, { idlePollMs: 20, batchSize: 3 }));
    const ids = await transfers(60);
    for (const d of ds) d.start();
    const all = () => fakes.flatMap((f) => f.ids());
    await waitFor('every start', () => ids.every((id) => all().includes(id)));
    await Promise.all(running.splice(0).map((d) => d.stop()));
    const counts = new Map<number, number>();
    for (const id of all()) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect(all()).toHaveLength(ids.length);
  });

  it('starts at most the cap per second (plus the burst), counted on its own clock', async () => {
    const fake = recordingClient();
    let now = 0;
    const d = dispatcher(fake.client, { maxPerSecond: 20, burst: 2, now: () => now });
    const ids = await transfers(60);
    const perStep: number[] = []; // starts in each 50 ms step of the injected clock
    for (let step = 0; step <= 40; step++) {
      now = step * 50;
      const before = fake.ids().length;
      for (let i = 0; i < 3; i++) await d.sweepOnce(); // more sweeps than needed: the cap must hold anyway
      perStep.push(fake.ids().length - before);
    }
    for (let from = 0; from + 20 <= perStep.length; from++) {
      const inOneSecond = perStep.slice(from, from + 20).reduce((a, b) => a + b, 0);
      expect(inOneSecond, `window from ${from * 50} ms`).toBeLessThanOrEqual(20 + 2);
    }
    // It drains at the cap, not slower: the burst, then one per 50 ms step, oldest first.
    expect(fake.ids()).toEqual(ids.slice(0, 2 + 40));
    expect(d.stats.rateLimited).toBeGreaterThan(0);
  });

  it("starts a batch's receipts as one workflow naming them all, and the cap counts every receipt", async () => {
    await db.admin.query(
      "UPDATE wallet.receipts SET workflow_started_at = now(), claimed_at = NULL WHERE status = 'pending'",
    );
    const fake = recordingClient();
    let now = 0;
    const d = dispatcher(fake.client, { maxPerSecond: 10, burst: 1, now: () => now });
    const to = Array.from({ length: 150 }, () => bob);
    const { rows } = await db.admin.query(
      'SELECT transaction_id FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[]) ORDER BY item',
      [alice, to, to.map(() => '0.01')],
    );
    const ids: number[] = rows.map((r) => r.transaction_id);
    // One token: one claim, which takes the first group of 100 whole and starts it as one workflow.
    expect(await d.sweepOnce()).toMatchObject({ claimed: 100, started: 100 });
    const [first] = fake.starts();
    expect(first).toMatchObject({ workflowId: `receipt-batch-${ids[0]}`, args: [{ batchId: ids[0] }] });
    const searchable = (first?.typedSearchAttributes as { key: { name: string }; value: unknown }[]) ?? [];
    expect(searchable.find((a) => a.key.name === 'TransactionIds')?.value).toEqual(
      ids.slice(0, 100).map(String),
    );
    // The 100 receipts took 100 tokens: at 10 a second, the next start waits ten seconds.
    now = 9_900;
    expect(await d.sweepOnce()).toMatchObject({ claimed: 0, limitedBy: 'rate' });
    now = 10_000;
    expect(await d.sweepOnce()).toMatchObject({ claimed: 50, started: 50 });
    expect(fake.starts().map((s) => s.workflowId)).toEqual([
      `receipt-batch-${ids[0]}`,
      `receipt-batch-${ids[100]}`,
    ]);
    expect(d.stats).toMatchObject({ started: 150, workflows: 2 });
    expect((await receiptRows(db.admin, ids)).every((r) => r.workflow_started_at !== null)).toBe(true);
  });

  it('logs a database outage once, backs off, and claims again once the database is back', async () => {
    const log = memoryLogger();
    const fake = recordingClient();
    const port = await findFreePort();
    const url = new URL(db.url);
    const pgPort = Number(url.port);
    url.port = String(port);
    // The dispatcher reaches PostgreSQL through a proxy that is not there yet: connections are refused.
    const pool = createPool({ url: url.toString(), role: 'wallet_worker', max: 2 });
    const d = dispatcher(fake.client, { pool, log });
    const ids = await transfers(2);
    const retries: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await d.sweepOnce();
      expect(result).toMatchObject({ claimed: 0, failed: 1 });
      retries.push(result.retryInMs);
    }
    expect(retries).toEqual([250, 500, 1000]);
    expect(log.lines.filter((l) => l.includes('cannot reach the database'))).toHaveLength(1);
    expect(d.state()).toMatchObject({ status: 'failing', kind: 'database', attempts: 3 });

    const proxy = net.createServer((socket) => {
      const upstream = net.connect(pgPort, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      expect(await d.sweepOnce()).toMatchObject({ claimed: 2, started: 2, failed: 0 });
      expect(fake.ids()).toEqual(ids);
      expect(log.lines.filter((l) => l.includes('database reachable again'))).toHaveLength(1);
      expect(log.lines.filter((l) => l.includes('cannot reach the database'))).toHaveLength(1);
    } finally {
      await d.stop();
      await pool.end();
      proxy.close();
    }
  });
});
