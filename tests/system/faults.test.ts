// Faults injected while the bank workload runs: the API and the worker SIGKILLed, PostgreSQL restarted,
// Temporal stopped for 20 s, Chromium killed mid-render. Each fault is confirmed to have happened; after each
// the books hold and every receipt is rendered once; the time to recover is printed.
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiptWorkflowId } from '../../src/temporal/start-receipt.js';
import { refusesConnections } from '../helpers/ports.js';
import { seededRandom } from '../helpers/random.js';
import { LOCAL_RENDER_AFTER_MS, renderAttempts, renderFailures } from '../helpers/render-history.js';
import { checkRun, lastTransactionId } from './checker.js';
import { System, useSystem } from './system.js';
import { runWorkload } from './workload.js';

const USERS = 20;
const THINK_MS = Number(process.env.BANK_THINK_MS ?? 1000);
const FUNDING = '1000.00';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const run = useSystem(USERS, FUNDING);
let temporal: Client;

beforeAll(async () => {
  // A lazy connection reconnects by itself after the Temporal server comes back.
  temporal = new Client({ connection: Connection.lazy({ address: run.system.temporalAddress }) });
});
afterAll(async () => {
  await temporal?.connection.close();
});

/** When the fault began and when it was healed (ms since the epoch). */
interface FaultWindow {
  startedAt: number;
  healedAt: number;
}

/**
 * Runs the workload while `fault` runs. A fault of the transfer path must be followed by transfers again; a
 * fault of the receipt path must not stop them at all: 201s inside its window, and never a 503.
 */
async function underLoad(
  label: string,
  seconds: number,
  path: 'transfers' | 'receipts',
  fault: () => Promise<FaultWindow>,
  prepare?: () => Promise<void>, // runs before the workload starts
) {
  await prepare?.();
  const before = await lastTransactionId(run.system.db());
  const random = seededRandom(`fault-${label}`);
  let faulty = true; // the workload runs at least until the fault has healed
  const workload = runWorkload({
    apiUrl: () => run.system.apiUrl,
    users: run.users,
    random,
    clients: 16,
    readers: 4,
    thinkMs: THINK_MS,
    seconds,
    label: `${label}-${random.seed}`,
    keepGoing: () => faulty,
  });
  const window = await fault().finally(() => {
    faulty = false;
  });
  const result = await workload;
  const firstSuccess = result.firstSuccessAfter(window.healedAt);
  const duringFault = result.successesBetween(window.startedAt, window.healedAt);
  const { report, drain, receiptProblems } = await checkRun(
    run.system.db(),
    run.system.temporalAddress,
    result,
    run,
    before,
  );
  console.log(
    `fault ${label}: seed=${random.seed} transfers=${result.transfers.length} committed=${report.committed} ` +
      `retries=${result.retries} answered_503=${result.unavailable} connection_errors=${result.connectionErrors} ` +
      `fault_s=${((window.healedAt - window.startedAt) / 1000).toFixed(1)} 201s_during_fault=${duringFault} ` +
      `first_201_after_heal_s=${firstSuccess ? ((firstSuccess - window.healedAt) / 1000).toFixed(2) : 'none'} ` +
      `receipts_drained_after_heal_s=${drain === undefined ? 'timeout' : ((Date.now() - window.healedAt) / 1000).toFixed(1)} ` +
      `problems=${report.problems.length} receipt_problems=${receiptProblems.length}`,
  );
  expect(report.problems.slice(0, 10), run.system.tail()).toEqual([]);
  if (path === 'transfers') {
    expect(firstSuccess, 'no transfer succeeded after the fault healed').toBeDefined();
  } else {
    expect(duringFault, 'no transfer succeeded while the receipt path was down').toBeGreaterThan(0);
    expect(result.unavailable, 'a transfer was answered 503 during a receipt-path fault').toBe(0);
  }
  expect(drain, `receipts did not drain\n${run.system.tail()}`).toBeDefined();
  expect(receiptProblems.slice(0, 10)).toEqual([]);
  return result;
}

/** Waits until the worker has its Chromium up, i.e. it is ready to render (a fresh one takes a while). */
async function workerUp() {
  for (let i = 0; i < 600 && run.system.chromiumPids().length === 0; i++) await sleep(200);
  expect(run.system.chromiumPids().length, 'the worker did not start Chromium').toBeGreaterThan(0);
}

/**
 * Before the workload: a worker whose prints are held 2 s (a test-only setting; the hold names its receipts
 * in the log), so a fault surely lands inside one, up with its Chromium.
 */
async function slowRenders() {
  await run.system.worker?.stop();
  run.system.startWorker({ RECEIPT_RENDER_DELAY_MS: String(2 * LOCAL_RENDER_AFTER_MS), LOG_LEVEL: 'info' });
  await workerUp();
}

describe('faults under the bank workload', () => {
  it('survives the API being SIGKILLed and restarted', async () => {
    const result = await underLoad('api-sigkill', 8, 'transfers', async () => {
      await sleep(2000);
      const startedAt = Date.now();
      expect(await System.kill(run.system.api)).toBe('SIGKILL');
      await run.system.startApi();
      return { startedAt, healedAt: Date.now() };
    });
    // Clients saw the API gone (refused or reset connections, or a 503) and retried with their keys.
    expect(result.connectionErrors + result.unavailable).toBeGreaterThan(0);
    expect(result.retries).toBeGreaterThan(0);
  });

  it('survives a PostgreSQL restart', async () => {
    await underLoad('postgres-restart', 10, 'transfers', async () => {
      await sleep(2000);
      const startedAt = Date.now();
      await run.system.stopPostgres();
      expect(await refusesConnections(run.system.pgPort), 'PostgreSQL still listens').toBe(true);
      await sleep(1000);
      await run.system.startPostgres();
      return { startedAt, healedAt: Date.now() };
    });
  });

  it('survives the Temporal server stopped for 20 s', async () => {
    await underLoad('temporal-down-20s', 25, 'receipts', async () => {
      await sleep(2000);
      const startedAt = Date.now();
      await run.system.stopTemporal();
      expect(await refusesConnections(run.system.temporalPort), 'Temporal still listens').toBe(true);
      await sleep(20_000);
      await run.system.startTemporal();
      return { startedAt, healedAt: Date.now() };
    });
  });

  it('survives the worker SIGKILLed in the middle of rendering', async () => {
    let printing: number[] = [];
    await underLoad(
      'worker-sigkill',
      10,
      'receipts',
      async () => {
        // A print holding its page right now: the receipts it carries are in flight at the kill.
        printing = await run.system.waitForHeldPrint(Date.now());
        const startedAt = Date.now();
        expect(await System.kill(run.system.worker)).toBe('SIGKILL');
        await sleep(3000); // transfers go on with no worker at all
        run.system.startWorker();
        return { startedAt, healedAt: Date.now() };
      },
      slowRenders,
    );
    // Each was rendered again after the kill: by its workflow task run again (the killed one timed out) or
    // by a later attempt of the fallback activity. checkRun above found each stored once.
    expect(printing.length).toBeGreaterThan(0);
    for (const id of printing) {
      const history = await temporal.workflow.getHandle(receiptWorkflowId(id)).fetchHistory();
      expect(
        renderAttempts(history),
        `receipt-${id} was not rendered again after the kill`,
      ).toBeGreaterThanOrEqual(2);
    }
  });

  it('survives Chromium being killed mid-render: the render is tried again', async () => {
    let killedDuring = 0;
    await underLoad(
      'chromium-kill',
      15,
      'receipts',
      async () => {
        // A print holding its page right now (the delay names its receipts): killing Chromium fails it.
        killedDuring = (await run.system.waitForHeldPrint(Date.now()))[0] as number;
        const pids = run.system.chromiumPids();
        expect(pids.length, 'no Chromium under the worker').toBeGreaterThan(0);
        const startedAt = Date.now();
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone with its parent
          }
        }
        // Healed when the interrupted receipt is stored; then back to full-speed renders for the drain.
        await temporal.workflow.getHandle(receiptWorkflowId(killedDuring)).result();
        const healedAt = Date.now();
        await run.system.worker?.stop();
        run.system.startWorker();
        return { startedAt, healedAt };
      },
      slowRenders,
    );
    const history = await temporal.workflow.getHandle(receiptWorkflowId(killedDuring)).fetchHistory();
    expect(renderAttempts(history), `receipt-${killedDuring} was not rendered again`).toBeGreaterThanOrEqual(
      2,
    );
    // And the first attempt failed because Chromium went away, not because a slowed print ran past the local
    // activity's 5 s bound (which would also bring a second attempt, with no kill at all).
    const [first] = renderFailures(history);
    expect(first, `receipt-${killedDuring}: ${JSON.stringify(renderFailures(history))}`).toMatchObject({
      type: 'RendererUnavailableError',
    });
  });
});
