// Faults injected while the bank workload runs: the API and the worker SIGKILLed, PostgreSQL restarted,
// Temporal stopped for 20 s, Chromium killed. After each the books hold and every receipt is rendered once;
// the time to recover is printed.
import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../helpers/random.js';
import { checkRun, lastTransactionId } from './checker.js';
import { System, useSystem } from './system.js';
import { runWorkload } from './workload.js';

const USERS = 20;
const THINK_MS = Number(process.env.BANK_THINK_MS ?? 1000);
const FUNDING = '1000.00';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const run = useSystem(USERS, FUNDING);

/** Runs the workload while `fault` runs; returns the seconds from the fault's heal to recovery. */
async function underLoad(
  label: string,
  seconds: number,
  fault: () => Promise<number>,
  stopsTransfers = true,
) {
  const before = await lastTransactionId(run.system.db());
  const random = seededRandom(`fault-${label}`);
  const workload = runWorkload({
    apiUrl: () => run.system.apiUrl,
    users: run.users,
    random,
    clients: 16,
    readers: 4,
    thinkMs: THINK_MS,
    seconds,
    label: `${label}-${random.seed}`,
  });
  const healedAt = await fault();
  const result = await workload;
  const firstSuccess = result.firstSuccessAfter(healedAt);
  const { report, drain, receiptProblems } = await checkRun(
    run.system.db(),
    result,
    run.users,
    FUNDING,
    before,
  );
  const stuck = await stuckWorkflows();
  console.log(
    `fault ${label}: seed=${random.seed} transfers=${result.transfers.length} committed=${report.committed} ` +
      `retries=${result.retries} first_201_after_heal_s=${firstSuccess ? ((firstSuccess - healedAt) / 1000).toFixed(2) : 'none'} ` +
      `receipts_drained_after_heal_s=${drain === undefined ? 'timeout' : ((Date.now() - healedAt) / 1000).toFixed(1)} ` +
      `problems=${report.problems.length} receipt_problems=${receiptProblems.length} stuck_workflows=${stuck}`,
  );
  expect(report.problems.slice(0, 10), run.system.tail()).toEqual([]);
  // Faults of the receipt path never stop transfers; for the others, transfers must come back.
  if (stopsTransfers) expect(firstSuccess, 'no transfer succeeded after the fault healed').toBeDefined();
  expect(drain, `receipts did not drain\n${run.system.tail()}`).toBeDefined();
  expect(receiptProblems).toEqual([]);
  expect(stuck).toBe(0);
}

/** Receipt workflows that are neither completed nor running towards completion: failed, terminated, ... */
async function stuckWorkflows(): Promise<number> {
  const connection = await Connection.connect({ address: run.system.temporalAddress });
  try {
    const client = new Client({ connection });
    const { count } = await client.workflow.count(
      "WorkflowType = 'receiptWorkflow' AND ExecutionStatus != 'Completed' AND ExecutionStatus != 'Running'",
    );
    return count;
  } finally {
    await connection.close();
  }
}

describe('faults under the bank workload', () => {
  it('survives the API being SIGKILLed and restarted', async () => {
    await underLoad('api-sigkill', 8, async () => {
      await sleep(2000);
      await System.kill(run.system.api);
      await run.system.startApi();
      return Date.now();
    });
  });

  it('survives a PostgreSQL restart', async () => {
    await underLoad('postgres-restart', 10, async () => {
      await sleep(2000);
      await run.system.postgres?.stop();
      await sleep(1000);
      await run.system.startPostgres();
      return Date.now();
    });
  });

  it('survives the Temporal server stopped for 20 s', async () => {
    await underLoad(
      'temporal-down-20s',
      25,
      async () => {
        await sleep(2000);
        await run.system.temporal?.stop();
        await sleep(20_000);
        await run.system.startTemporal();
        return Date.now();
      },
      false,
    );
  });

  it('survives the worker SIGKILLed in the middle of rendering', async () => {
    await underLoad(
      'worker-sigkill',
      8,
      async () => {
        // Wait until the worker has Chromium busy, then kill it without warning.
        for (let i = 0; i < 100 && run.system.chromiumPids().length === 0; i++) await sleep(100);
        await sleep(1000);
        await System.kill(run.system.worker);
        await sleep(500);
        run.system.startWorker();
        return Date.now();
      },
      false,
    );
    expect(run.system.chromiumPids().length).toBeGreaterThan(0);
  });

  it('survives Chromium being killed under the worker', async () => {
    await underLoad(
      'chromium-kill',
      8,
      async () => {
        for (let i = 0; i < 100 && run.system.chromiumPids().length === 0; i++) await sleep(100);
        await sleep(1000);
        const pids = run.system.chromiumPids();
        expect(pids.length).toBeGreaterThan(0);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone with its parent
          }
        }
        return Date.now();
      },
      false,
    );
  });
});
