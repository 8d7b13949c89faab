// Temporal down while money moves: transfers succeed in SQL, receipts wait as pending rows, the dispatcher
// logs the outage once, and every receipt is rendered after a new server comes up on the same port and state.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findFreePort } from '../../src/net/free-port.js';
import { type ReceiptWorker, startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';
import { descendants, isChromium, waitUntilGone } from '../helpers/chromium.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import {
  executionsOnceCompleted,
  memoryLogger,
  quietTemporalRuntime,
  receiptConfig,
  receiptRows,
  waitFor,
  waitForReceipts,
} from '../helpers/receipt-worker.js';

let db: TestDatabase;
let dir: string;
let port: number;
let temporal: DevServer | undefined;
let worker: ReceiptWorker | undefined;
const log = memoryLogger();

function startServer(): Promise<DevServer> {
  return startTemporalDevServer({
    cliPath: resolveTemporalCli(),
    port,
    dbFile: path.join(dir, 'temporal.db'),
  });
}

beforeAll(async () => {
  quietTemporalRuntime();
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-temporal-outage-'));
  port = await findFreePort();
  temporal = await startServer();
  worker = await startReceiptWorker({ config: receiptConfig(temporal.address), databaseUrl: db.url, log });
});

afterAll(async () => {
  const chromium = descendants(process.pid).filter(isChromium);
  await worker?.stop();
  await temporal?.stop();
  await rm(dir, { recursive: true, force: true });
  expect(await waitUntilGone(chromium)).toEqual([]);
});

it('keeps transfers working while Temporal is down and renders every receipt once it is back', async () => {
  const alice = await fundedUser(db.admin, 'alice', '1000.00');
  const bob = await fundedUser(db.admin, 'bob');
  const transfer = async (amount: string) =>
    (await db.app.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [alice, bob, amount])).rows[0]
      .transaction_id as number;
  const before = await transfer('1.00');
  await waitForReceipts(db.admin, [before]);

  await temporal?.stop();
  temporal = undefined;
  const during: number[] = [];
  for (const amount of ['2.00', '3.00', '4.00', '5.00', '6.00']) during.push(await transfer(amount));
  const { rows } = await db.app.query('SELECT balance FROM wallet.wallets WHERE user_id = $1', [bob]);
  expect(rows[0].balance).toBe('21.00');

  // The dispatcher notices, says so once, and keeps sweeping without repeating itself.
  const outage = /Temporal unreachable/;
  await waitFor('the outage to be logged', () => log.lines.some((l) => outage.test(l)));
  const sweeps = worker?.dispatcher?.stats.sweeps ?? 0;
  await waitFor('three more sweeps', () => (worker?.dispatcher?.stats.sweeps ?? 0) >= sweeps + 3);
  expect(log.lines.filter((l) => outage.test(l))).toHaveLength(1);
  const pending = await receiptRows(db.admin, during);
  expect(pending.map((r) => r.status)).toEqual(during.map(() => 'pending'));

  temporal = await startServer();
  const rendered = await waitForReceipts(db.admin, during, 120_000);
  expect(rendered.every((r) => r.pdf !== null && r.workflow_started_at !== null)).toBe(true);
  expect(log.lines.some((l) => /Temporal reachable again/.test(l))).toBe(true);

  const client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
  try {
    for (const id of [before, ...during]) {
      const executions = await executionsOnceCompleted(client, id);
      expect(
        executions.map((e) => e.status.name),
        `receipt-${id}`,
      ).toEqual(['COMPLETED']);
    }
  } finally {
    await client.connection.close();
  }
}, 240_000);
