// The floors a receipt is judged against, measured in the same run as the pipeline (issue 19, part 1): the
// empty one-task workflow (bench/receipts/temporal-floor.ts, on the same Temporal persistence as the shape it
// judges) and the raw renderer per receipt at up to RECEIPT_BATCH_MAX a print (bench/receipts/raw-renderer.ts).
// A shape's CPU per receipt is printed as a multiple of their sum; machines differ by up to 3x from day to
// day, ratios within one run do not.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../../src/net/free-port.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';
import { childrenCpuMs, treeCpuMs, treePids } from './memory.js';

/** Where Temporal keeps its state: 'file' is the dev server on a SQLite file, as `npm run dev` runs it;
 *  'pipeline' is whatever the run's own stack uses (bench/receipts/stack.ts). */
export type TemporalPersistence = 'pipeline' | 'file';

/** A dev server on a SQLite file in a temporary folder (removed by stop()). */
export async function fileTemporal(nice: number): Promise<DevServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-bench-temporal-'));
  const server = await startTemporalDevServer({
    cliPath: resolveTemporalCli(),
    port: await findFreePort(),
    nice,
    dbFile: path.join(dir, 'temporal.db'),
  });
  return {
    ...server,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FLOOR_WORKFLOWS = Number(process.env.BENCH_FLOOR_WORKFLOWS ?? 400);

export interface Floors {
  persistence: TemporalPersistence;
  /** Temporal server + SDK CPU per empty one-task workflow. */
  temporalMs: number;
  /** Chromium + node (+ qpdf) CPU per receipt printed at up to RECEIPT_BATCH_MAX a print. */
  rendererMs: number;
}

/** The empty one-task workflow's CPU (server + SDK) on a fresh dev server of the given persistence. */
export function temporalFloorMs(nice: number, persistence: TemporalPersistence): Promise<number> {
  const args = ['--import', 'tsx', 'bench/receipts/temporal-floor.ts', String(FLOOR_WORKFLOWS), String(nice)];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...args, 'emptyWorkflow', persistence], { cwd: ROOT }, (error, stdout) => {
      if (error) return reject(error);
      const floor = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
        serverMs: number;
        sdkMs: number;
      };
      resolve(floor.serverMs + floor.sdkMs);
    });
  });
}

export function floorSum(f: Floors): number {
  return f.temporalMs + f.rendererMs;
}

export function describeFloors(f: Floors): string {
  const where = f.persistence === 'file' ? 'Temporal on a file' : "the pipeline's Temporal";
  return (
    `floor sum (${where}) ${floorSum(f).toFixed(1)} ms CPU per receipt = empty one-task workflow ` +
    `${f.temporalMs.toFixed(1)} ms + raw renderer ${f.rendererMs.toFixed(1)} ms`
  );
}

/** "burst: 31.2 ms CPU per receipt = 1.43x the floor sum (target <= 1.25x)". */
export function againstFloors(shape: string, cpuMsPerReceipt: number, f: Floors): string {
  const ratio = cpuMsPerReceipt / floorSum(f);
  return `${shape}: ${cpuMsPerReceipt.toFixed(1)} ms CPU per receipt = ${ratio.toFixed(2)}x the floor sum (target <= 1.25x)`;
}

/** CPU ms so far of a worker's node process, its Chromium and qpdf runs, the Temporal server (its first pid;
 *  the others are Temporal's own PostgreSQL in the production shape, BENCH_TEMPORAL=postgres) and this
 *  process's PostgreSQL (the embedded ledger: with DATABASE_URL it is elsewhere and not counted). */
export function cpuByComponent(workerPid: number, temporalPids: number[]): Map<string, number> {
  const all = new Map<string, number>();
  const add = (m: Map<string, number>) => {
    for (const [k, v] of m) all.set(k, (all.get(k) ?? 0) + v);
  };
  add(treeCpuMs(workerPid, (role) => (role.startsWith('chromium') ? 'Chromium' : 'worker node')));
  add(new Map([['qpdf', childrenCpuMs(workerPid)]])); // split processes, exited and waited for
  const [server = 0, ...temporalPostgres] = temporalPids;
  add(treeCpuMs(server, () => 'Temporal server'));
  for (const pid of temporalPostgres) add(treeCpuMs(pid, () => "Temporal's PostgreSQL"));
  // Temporal's PostgreSQL is also a child of this process: counted above, so not again as the ledger's.
  const temporalTree = new Set(temporalPostgres.flatMap((pid) => treePids(pid)));
  add(
    treeCpuMs(
      process.pid,
      (role) => (role.startsWith('postgres') ? 'PostgreSQL' : 'other'),
      (pid) => !temporalTree.has(pid),
    ),
  );
  all.delete('other');
  return all;
}

/** CPU per receipt since `before`, per component and in all. */
export function cpuPerReceiptSince(before: Map<string, number>, now: Map<string, number>, receipts: number) {
  const perReceipt = [...now.entries()].map(
    ([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / receipts] as const,
  );
  return {
    cpuMsPerReceipt: perReceipt.reduce((total, [, ms]) => total + ms, 0),
    cpuPerReceipt: perReceipt.map(([name, ms]) => `${name} ${ms.toFixed(1)} ms`),
  };
}
