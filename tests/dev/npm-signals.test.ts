// Signals reach the services through npm. A process manager (systemd, a supervisor, a terminal multiplexer)
// signals the process it started, and for `npm start`, `npm run worker` and `npm run dev` that is npm. npm 11
// relays SIGINT and SIGTERM to its child only, and that child was `sh -c '<script>'`: dash does not exec the
// last command, so sh died and node ran on, orphaned. The scripts now `exec` their node. Signalled here: npm's
// own pid (a supervisor, `kill -TERM <npm pid>`), and npm's whole group (a terminal's Ctrl-C, systemd's
// default KillMode), where node gets the signal twice, from the sender and relayed by npm, and must still
// drain rather than take the copy for a second, impatient request. Each time the service must stop, leave
// nothing behind, and npm must exit 0.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { embeddedServerUrl, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { isFree } from '../../src/dev/ports.js';
import { findFreePort } from '../../src/net/free-port.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { createTestDatabase, fundedUser, queryOnce, type TestDatabase } from '../helpers/database.js';
import { PROJECT_ROOT, waitFor, waitForReceipts } from '../helpers/receipt-worker.js';
import { startTestTemporal } from '../helpers/temporal.js';
import { alive, DevStack, descendants } from './dev-stack.js';

vi.setConfig({ testTimeout: 240_000 });

const STARTED = proto.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
// Over the 5 s bound of the local print: the render falls back to an activity, where a drain is visible.
const RENDER_DELAY_MS = 6000;
const LONG_RUNNING = ['dev', 'start', 'worker', 'start:dev', 'worker:dev'];

interface NpmRun {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
}

const runs: NpmRun[] = [];

function npmRun(script: string, env: Record<string, string>): NpmRun {
  const child = spawn('npm', ['run', script], {
    cwd: PROJECT_ROOT,
    detached: true, // a group of its own, which a test may signal as a whole
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  child.stdout?.on('data', (c) => (output += c));
  child.stderr?.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (!child.pid) throw new Error(`could not run npm run ${script}`);
  const run = { child, pid: child.pid, output: () => output, exited };
  runs.push(run);
  return run;
}

// npm: npm's pid alone; group: npm's whole group at once; copy: npm, then 300 ms later node itself, as when
// npm's relay of a group signal comes late (a signal that arrives before node handles the first merges
// with it, so only a late copy tells a copy from a second request; only a draining worker is sure to be
// still there to receive it).
type Target = 'npm' | 'group' | 'copy';

/** Signals npm alone or its whole group, then expects npm to exit 0 and every process it started to go. */
async function stopThroughNpm(run: NpmRun, signal: NodeJS.Signals, target: Target = 'npm'): Promise<void> {
  const started = descendants(run.pid);
  expect(started.size, run.output()).toBeGreaterThan(0);
  process.kill(target === 'group' ? -run.pid : run.pid, signal);
  if (target === 'copy') {
    const node = [...started.keys()].find((pid) => /^node /.test(started.get(pid) ?? ''));
    if (!node) throw new Error(`no node under npm: ${[...started.values()].join(', ')}`);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(node, signal);
  }
  expect(await run.exited, run.output()).toBe(0);
  const left = await waitFor(
    'every process npm started to go',
    () => (alive(started.keys()).length === 0 ? [] : undefined),
    30_000,
  ).catch(() => alive(started.keys()).map((pid) => started.get(pid)));
  expect(left, run.output()).toEqual([]);
}

afterAll(() => {
  for (const run of runs) {
    for (const pid of alive([...descendants(run.pid).keys(), run.pid])) process.kill(pid, 'SIGKILL');
  }
});

describe('the long-running npm scripts', () => {
  it('exec their node, so npm relays signals to the service itself', () => {
    const { scripts } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
    for (const name of LONG_RUNNING) expect(scripts[name], name).toMatch(/^exec node /);
  });
});

describe('npm run start:dev (the API)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });

  it.each([
    ['SIGTERM', 'npm'],
    ['SIGINT', 'npm'],
    ['SIGINT', 'group'],
  ] as const)('stops cleanly on %s to %s', async (signal, target) => {
    const port = await findFreePort();
    const run = npmRun('start:dev', {
      DATABASE_URL: db.url,
      PORT: String(port),
      TEMPORAL_ADDRESS: `127.0.0.1:${await findFreePort()}`,
    });
    await waitFor('the API', async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 90_000);
    await stopThroughNpm(run, signal, target);
    expect(run.output()).toContain('shutting down: finishing in-flight requests');
    expect(run.output()).not.toContain('exiting without waiting');
    expect(await isFree(port)).toBe(true);
  });
});

describe('npm run worker:dev', () => {
  let db: TestDatabase;
  let temporal: DevServer;
  let client: Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    temporal = await startTestTemporal();
    client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
  });
  afterAll(async () => {
    await client?.connection.close();
    await temporal?.stop();
  });

  const workerEnv = () => ({
    DATABASE_URL: db.url,
    TEMPORAL_ADDRESS: temporal.address,
    RECEIPT_PAGES: '1',
    RECEIPT_RENDER_DELAY_MS: String(RENDER_DELAY_MS),
  });

  it.each([
    ['SIGTERM', 'npm'],
    ['SIGTERM', 'copy'],
    ['SIGINT', 'group'],
  ] as const)(
    'drains on %s to %s: the render in progress is stored, then nothing is left',
    async (signal, target) => {
      const run = npmRun('worker:dev', workerEnv());
      await waitFor('the worker', () => run.output().includes('receipt worker started'), 120_000);
      const name = `${signal}_${target}`.toLowerCase();
      const alice = await fundedUser(db.admin, `alice_${name}`, '10.00');
      const bob = await fundedUser(db.admin, `bob_${name}`);
      const { rows } = await db.admin.query('SELECT * FROM wallet.transfer($1, $2, 1.00)', [alice, bob]);
      const id = Number(rows[0].transaction_id);
      await waitFor(
        'the render to be running',
        async () => {
          const described = await client.workflow.getHandle(`receipt-${id}`).describe();
          return (described.raw.pendingActivities ?? []).some((a) => a.state === STARTED);
        },
        90_000,
      );
      await stopThroughNpm(run, signal, target);
      expect(run.output()).toContain(`${signal}: shutting down (running receipts finish first)`);
      expect(run.output()).not.toContain('exiting without waiting');
      expect(run.output()).toMatch(/receipt worker stopped \(it printed \d+ receipts? in \d+ prints?\)/);
      expect(await waitForReceipts(db.admin, [id], 1000)).toHaveLength(1);
    },
  );

  it('stops on SIGINT to npm', async () => {
    const run = npmRun('worker:dev', workerEnv());
    await waitFor('the worker', () => run.output().includes('receipt worker started'), 120_000);
    await stopThroughNpm(run, 'SIGINT');
    expect(run.output()).toContain('SIGINT: shutting down');
  });
});

describe('npm run dev', () => {
  let dev: DevStack;
  afterAll(async () => {
    await dev?.remove();
  });
  const alice = `Basic ${Buffer.from('alice:alice-demo-password').toString('base64')}`;

  it('stops in order on SIGTERM to npm alone, draining the render in progress', async () => {
    dev = await DevStack.start({ RECEIPT_RENDER_DELAY_MS: String(RENDER_DELAY_MS) });
    await dev.waitForBanner();
    const response = await fetch(`${dev.apiUrl}/api/wallet/transfer/`, {
      method: 'POST',
      headers: { authorization: alice, 'content-type': 'application/json' },
      body: JSON.stringify({ receiver_id: 2, amount: '5.00' }),
    });
    expect(response.status).toBe(201);
    const id = ((await response.json()) as { transaction_id: number }).transaction_id;
    const client = await connectTemporalClient({
      address: `127.0.0.1:${dev.ports.temporal}`,
      namespace: 'default',
    });
    try {
      await dev.waitFor(
        'the render to be running',
        async () => {
          const described = await client.workflow.getHandle(`receipt-${id}`).describe();
          return (described.raw.pendingActivities ?? []).some((a) => a.state === STARTED) ? true : undefined;
        },
        90_000,
      );
    } finally {
      await client.connection.close();
    }
    const run: NpmRun = {
      child: dev.process,
      pid: dev.process.pid ?? 0,
      output: () => dev.output,
      exited: dev.waitForExit().then(() => dev.process.exitCode),
    };
    await stopThroughNpm(run, 'SIGTERM');
    expect(dev.output).toContain('[dev] stopped');
    for (const [what, port] of Object.entries(dev.ports)) expect(await isFree(port), what).toBe(true);

    // The render that the SIGTERM interrupted finished and was stored before PostgreSQL stopped.
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(dev.dir, 'data', 'pgdata'),
      port: dev.ports.pg,
    });
    try {
      const { rows } = await queryOnce(
        embeddedServerUrl(dev.ports.pg, 'wallet'),
        'SELECT status FROM wallet.receipts WHERE transaction_id = $1',
        [id],
      );
      expect(rows).toEqual([{ status: 'rendered' }]);
    } finally {
      await pg.stop();
    }
  });

  it('stops in order on SIGINT to npm alone (a second run on the same data)', async () => {
    const again = await DevStack.start({}, dev);
    try {
      await again.waitForBanner();
      const run: NpmRun = {
        child: again.process,
        pid: again.process.pid ?? 0,
        output: () => again.output,
        exited: again.waitForExit().then(() => again.process.exitCode),
      };
      await stopThroughNpm(run, 'SIGINT');
      expect(again.output).toContain('[dev] stopped');
      for (const [what, port] of Object.entries(again.ports)) expect(await isFree(port), what).toBe(true);
    } finally {
      if (!again.exited && again.process.pid) process.kill(-again.process.pid, 'SIGKILL');
    }
  });
});
