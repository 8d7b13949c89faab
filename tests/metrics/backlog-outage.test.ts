// The receipt backlog gauges and the dispatcher's state follow a Temporal outage and recover after it: with
// the server down, psql-made transfers pile up as pending (and unstarted) receipts whose oldest age grows and
// the dispatcher reports failing; with the server back, all of it drains to zero. The backlog is read from
// the database at most once a second however often /metrics is scraped.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { workerRegistry } from '../../src/metrics/names.js';
import { backlogReads } from '../../src/metrics/receipts.js';
import { type MetricsServer, startMetricsServer } from '../../src/metrics/server.js';
import { findFreePort } from '../../src/net/free-port.js';
import { type ReceiptWorker, startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';
import { descendants, isChromium, waitUntilGone } from '../helpers/chromium.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { delta, scrape, total } from '../helpers/metrics.js';
import {
  memoryLogger,
  quietTemporalRuntime,
  receiptConfig,
  waitFor,
  waitForReceipts,
} from '../helpers/receipt-worker.js';

let db: TestDatabase;
let dir: string;
let port: number;
let temporal: DevServer | undefined;
let worker: ReceiptWorker | undefined;
let metrics: MetricsServer;

const startServer = () =>
  startTemporalDevServer({ cliPath: resolveTemporalCli(), port, dbFile: path.join(dir, 'temporal.db') });

async function gauges() {
  const samples = await scrape(metrics.url);
  return {
    pending: total(samples, 'wallet_receipts_pending'),
    unstarted: total(samples, 'wallet_receipts_unstarted'),
    oldestAge: total(samples, 'wallet_receipt_oldest_pending_age_seconds'),
    failing: total(samples, 'wallet_dispatcher_state', { state: 'failing' }),
    starting: total(samples, 'wallet_dispatcher_state', { state: 'starting' }),
  };
}

beforeAll(async () => {
  quietTemporalRuntime();
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-backlog-outage-'));
  port = await findFreePort();
  temporal = await startServer();
  worker = await startReceiptWorker({
    config: receiptConfig(temporal.address),
    databaseUrl: db.url,
    log: memoryLogger(),
  });
  metrics = await startMetricsServer(workerRegistry, '127.0.0.1', 0);
});

afterAll(async () => {
  const chromium = descendants(process.pid).filter(isChromium);
  await metrics?.close();
  await worker?.stop();
  await temporal?.stop();
  await rm(dir, { recursive: true, force: true });
  // The database helper's own cleanup is registered inside beforeAll, where vitest never runs it.
  await Promise.all([db?.admin.end(), db?.app.end(), db?.worker.end()]);
  expect(await waitUntilGone(chromium)).toEqual([]);
});

it('reads the backlog from the database at most once a second, whatever the scrape rate', async () => {
  const reads = backlogReads.count;
  const started = Date.now();
  for (let i = 0; i < 20; i++) await scrape(metrics.url);
  const seconds = Math.ceil((Date.now() - started) / 1000);
  expect(backlogReads.count - reads).toBeGreaterThanOrEqual(1);
  expect(backlogReads.count - reads).toBeLessThanOrEqual(seconds + 1);
});

it('follows the backlog through a Temporal outage and back to zero', async () => {
  const alice = await fundedUser(db.admin, 'alice', '100.00');
  const bob = await fundedUser(db.admin, 'bob');
  await waitForReceipts(db.admin);
  await waitFor('an empty backlog', async () => (await gauges()).pending === 0);
  expect(await gauges()).toMatchObject({ oldestAge: 0, starting: 1, failing: 0 });
  const before = await scrape(metrics.url);

  await temporal?.stop();
  temporal = undefined;
  for (const amount of ['1.00', '2.00', '3.00'])
    await db.app.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [alice, bob, amount]);

  const during = await waitFor('three receipts pending, unstarted, with the dispatcher failing', async () => {
    const g = await gauges();
    return (
      g.pending === 3 && g.unstarted === 3 && g.failing === 1 && g.starting === 0 && g.oldestAge > 0 && g
    );
  });
  await waitFor('the oldest age to grow', async () => (await gauges()).oldestAge > during.oldestAge + 1);

  temporal = await startServer();
  await waitForReceipts(db.admin, undefined, 120_000);
  await waitFor('the gauges to recover', async () => {
    const g = await gauges();
    return g.pending === 0 && g.unstarted === 0 && g.oldestAge === 0 && g.starting === 1 && g.failing === 0;
  });
  // The dispatcher's counters tell the same story: failed attempts against Temporal, then the three starts
  // (a start that timed out but went through is started again, harmlessly, hence at least).
  const after = await scrape(metrics.url);
  expect(delta(before, after, 'wallet_dispatcher_failures_total', { kind: 'temporal' })).toBeGreaterThan(0);
  const started = delta(before, after, 'wallet_dispatcher_started_total');
  expect(started).toBeGreaterThanOrEqual(3);
  expect(delta(before, after, 'wallet_dispatcher_claimed_total')).toBeGreaterThan(started);
  expect(delta(before, after, 'wallet_receipts_rendered_total')).toBe(3);
}, 240_000);
