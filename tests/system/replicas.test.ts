// More than one machine's worth of processes: the bank workload against 2 API processes and 2 workers on
// one PostgreSQL and one Temporal, clients spread over both APIs as a load balancer would (round robin over
// the APIs whose process is up, as its health check would see them). Mid-run one API and one worker are
// SIGKILLed; the survivors must carry on: 0 lost, 0 doubled, every receipt exactly once, books balanced.

import { execFileSync } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Child } from '../../src/dev/children.js';
import { findFreePort } from '../../src/net/free-port.js';
import { receiptWorkflowId } from '../../src/temporal/start-receipt.js';
import { descendants } from '../helpers/chromium.js';
import { seededRandom } from '../helpers/random.js';
import { LOCAL_RENDER_AFTER_MS, renderAttempts } from '../helpers/render-history.js';
import { checkRun, lastTransactionId } from './checker.js';
import { System, useSystem } from './system.js';
import { runWorkload } from './workload.js';

const USERS = 20;
const SECONDS = Number(process.env.REPLICAS_SECONDS ?? 16);
const THINK_MS = Number(process.env.BANK_THINK_MS ?? 1000);
const FUNDING = '1000.00';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const run = useSystem(USERS, FUNDING);
let apiB: Child | undefined;
let workerB: Child | undefined;
let apiBPort = 0;

beforeAll(async () => {
  apiBPort = await findFreePort();
  // Worker A holds each print 2 s (a test-only setting; the hold names its receipts in its log), so a print
  // is surely in flight when it is killed. Worker B prints at full speed.
  await run.system.worker?.stop();
  run.system.startWorker({ RECEIPT_RENDER_DELAY_MS: String(2 * LOCAL_RENDER_AFTER_MS), LOG_LEVEL: 'info' });
  workerB = run.system.spawnWorker('worker-b');
  apiB = await run.system.spawnApi('api-b', apiBPort);
}, 120_000);

afterAll(async () => {
  await System.kill(apiB);
  await workerB?.stop();
});

const up = (child: Child | undefined) =>
  child !== undefined && child.process.exitCode === null && child.process.signalCode === null;

/** Local ports of the process tree's TCP connections to PostgreSQL: its pool's backends, by client_port. */
function clientPorts(rootPid: number, pgPort: number): number[] {
  const pids = new Set([rootPid, ...descendants(rootPid).map((p) => p.pid)]);
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${pgPort} )`], {
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((line) => [...line.matchAll(/pid=(\d+)/g)].some((m) => pids.has(Number(m[1]))))
    .map((line) => Number(/:(\d+)\s+\S+:\d+/.exec(line)?.[1]));
}

async function receiptWorkflows(query: string): Promise<number> {
  const connection = await Connection.connect({ address: run.system.temporalAddress });
  try {
    return (await new Client({ connection }).workflow.count(query)).count;
  } finally {
    await connection.close();
  }
}

describe('2 APIs and 2 workers', () => {
  it('keep the books and every receipt when one API and one worker are SIGKILLed mid-run', async () => {
    const db = run.system.db();
    const before = await lastTransactionId(db);
    const apis = [
      { url: run.system.apiUrl, child: () => run.system.api, picks: 0 },
      { url: `http://127.0.0.1:${apiBPort}`, child: () => apiB, picks: 0 },
    ];
    let turn = 0;
    const balancer = () => {
      const live = apis.filter((a) => up(a.child()));
      const api = live[turn++ % live.length] ?? apis[0];
      if (!api) throw new Error('no API');
      api.picks++;
      return api.url;
    };
    const random = seededRandom('replicas');
    const started = Date.now();
    let killed = false;
    const workload = runWorkload({
      apiUrl: balancer,
      users: run.users,
      random,
      clients: 16,
      readers: 4,
      thinkMs: THINK_MS,
      seconds: SECONDS,
      label: `replicas-${random.seed}`,
      keepGoing: () => !killed, // at least until the kills below, however long finding the moment takes
    });

    // A third of the way in, with both workers rendering: no warning, no cleanup, as a lost machine.
    await sleep((SECONDS * 1000) / 3);
    const [apiA, workerA] = [run.system.api, run.system.worker];
    if (!apiA?.process.pid) throw new Error('API A is not running');
    // Forced in flight at the kill: a print on worker A holding its page, and a transfer on API A waiting
    // inside the database (every wallet row is held until one of API A's backends waits on a lock).
    const printingOnA = await run.system.waitForHeldPrint(Date.now(), 120_000, 'worker');
    const blocker = await db.connect();
    let killedAtDb: Date;
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM wallet.wallets FOR UPDATE');
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ports = clientPorts(apiA.process.pid, run.system.pgPort);
        const { rows } = await db.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
            WHERE a.datname = current_database() AND a.client_port = ANY($1)`,
          [ports],
        );
        if (rows[0].n > 0) break;
        if (Date.now() > deadline) throw new Error('no transfer of API A waited inside the database');
        await sleep(20);
      }
      await Promise.all([System.kill(apiA), System.kill(workerA)]);
      killed = true;
      killedAtDb = (await db.query('SELECT clock_timestamp() AS t')).rows[0].t;
    } finally {
      killed = true; // the workload ends on its own clock even if the kill did not happen
      await blocker.query('COMMIT').catch(() => undefined);
      blocker.release();
    }
    const killedAt = Date.now();
    expect(apiA?.process.signalCode).toBe('SIGKILL');
    expect(workerA?.process.signalCode).toBe('SIGKILL');

    const result = await workload;
    const elapsed = (Date.now() - started) / 1000;
    const { report, drain, receiptProblems } = await checkRun(
      db,
      run.system.temporalAddress,
      result,
      run,
      before,
    );
    const transactions = Number((await db.query('SELECT count(*) FROM wallet.transactions')).rows[0].count);
    // Visibility lags a little behind the workflows themselves.
    let completed = 0;
    for (let i = 0; i < 40 && completed !== transactions; i++) {
      completed = await receiptWorkflows(
        "WorkflowType = 'receiptWorkflow' AND ExecutionStatus = 'Completed'",
      );
      if (completed !== transactions) await sleep(500);
    }
    const notCompleted = await receiptWorkflows(
      "WorkflowType = 'receiptWorkflow' AND ExecutionStatus != 'Completed'",
    );
    console.log(
      `replicas: seed=${random.seed} apis=2 workers=2 seconds=${elapsed.toFixed(1)} ` +
        `transfers=${result.transfers.length} committed=${report.committed} rejected=${report.rejected} ` +
        `tps=${(report.committed / elapsed).toFixed(1)} retries=${result.retries} reads=${result.reads} ` +
        `requests_per_api=${apis.map((a) => a.picks).join('/')} killed_at_s=${((killedAt - started) / 1000).toFixed(1)} ` +
        `receipts_drained_after_kill_s=${drain === undefined ? 'timeout' : ((Date.now() - killedAt) / 1000).toFixed(1)} ` +
        `workflows_completed=${completed} transactions=${transactions} problems=${report.problems.length}`,
    );
    expect(report.problems.slice(0, 10), run.system.tail()).toEqual([]);
    expect(report.committed).toBeGreaterThan(0);
    expect(apis.every((a) => a.picks > 0)).toBe(true);
    // The API kill cut requests in flight: clients saw errors and retried with their keys.
    expect(result.connectionErrors + result.unavailable, 'no client saw API A go').toBeGreaterThan(0);
    expect(result.retries, 'no client retried').toBeGreaterThan(0);
    // What worker A was printing at its death was rendered again and stored after it, so by worker B.
    expect(printingOnA.length).toBeGreaterThan(0);
    const { rows: stored } = await db.query(
      'SELECT transaction_id, rendered_at > $2 AS after_kill FROM wallet.receipts WHERE transaction_id = ANY($1)',
      [printingOnA, killedAtDb],
    );
    expect(stored.filter((r) => !r.after_kill)).toEqual([]);
    expect(stored).toHaveLength(printingOnA.length);
    const temporal = await Connection.connect({ address: run.system.temporalAddress });
    try {
      for (const id of printingOnA) {
        const history = await new Client({ connection: temporal }).workflow
          .getHandle(receiptWorkflowId(id))
          .fetchHistory();
        expect(
          renderAttempts(history),
          `receipt-${id} printed again after worker A died`,
        ).toBeGreaterThanOrEqual(2);
      }
    } finally {
      await temporal.close();
    }
    expect(result.firstSuccessAfter(killedAt), 'no transfer succeeded after the kills').toBeDefined();
    expect(drain, `receipts did not drain\n${run.system.tail()}`).toBeDefined();
    expect(receiptProblems).toEqual([]);
    // Exactly once: one completed receipt workflow per transaction, none failed, stuck or running.
    expect(completed).toBe(transactions);
    expect(notCompleted).toBe(0);
  });
});
