// What the replay-fixture recorders share: a real stack to record on (a database, a Temporal dev server, the
// receipt worker with Chromium, a client), and a workflow's history exported into tests/workflows/fixtures/
// the way an operator would export it (`temporal workflow show --output json`).
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { PROJECT_ROOT, receiptConfig, silentLogger } from '../helpers/receipt-worker.js';
import { startTestTemporal } from '../helpers/temporal.js';

export const FIXTURES = new URL('./fixtures/', import.meta.url);

export interface RecordingStack {
  db: TestDatabase;
  temporal: DevServer;
  client: Client;
}

/** Runs `record` on a fresh stack and stops the stack after it, whatever happened. */
export async function withRecordingStack<T>(
  record: (stack: RecordingStack) => Promise<T>,
  opts: { failRender?: (transactionId: number) => boolean } = {},
): Promise<T> {
  const db = await createTestDatabase();
  const temporal = await startTestTemporal();
  const worker = await startReceiptWorker({
    config: receiptConfig(temporal.address),
    databaseUrl: db.url,
    log: silentLogger,
    failRender: opts.failRender,
  });
  const client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
  try {
    return await record({ db, temporal, client });
  } finally {
    await worker.stop();
    await client.connection.close();
    await temporal.stop();
  }
}

/** Writes each workflow's history to fixtures/<name>.json, in the layout `biome check` expects; returns the paths. */
export async function exportHistories(
  temporal: DevServer,
  workflows: ReadonlyArray<readonly [name: string, workflowId: string]>,
): Promise<string[]> {
  const written: string[] = [];
  for (const [name, workflowId] of workflows) {
    const json = execFileSync(
      resolveTemporalCli(),
      ['workflow', 'show', '--workflow-id', workflowId, '--address', temporal.address, '--output', 'json'],
      { encoding: 'utf8' },
    );
    const file = new URL(`${name}.json`, FIXTURES);
    await writeFile(file, `${JSON.stringify(JSON.parse(json), null, 2)}\n`);
    written.push(file.pathname);
  }
  execFileSync('npx', ['biome', 'format', '--write', ...written], { cwd: PROJECT_ROOT, stdio: 'ignore' });
  return written;
}
