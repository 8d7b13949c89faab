// Helpers for receipt tests: the worker in-process or as a child process (`node --import tsx src/worker.ts`,
// one process, so a SIGKILL hits the worker itself and not a tsx wrapper), waiting for receipts, and the
// Temporal side of a receipt. Free of vitest imports, so scripts can use them too.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type pg from 'pg';
import { type Logger, silentLogger } from '../../src/receipts/log.js';
import type { ReceiptWorkerConfig } from '../../src/receipts/receipt-worker.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

let runtimeInstalled = false;
/**
 * Keeps the SDK's own INFO and WARN chatter (failed attempts, made on purpose in tests) out of the output;
 * must run before any worker or native connection.
 */
export function quietTemporalRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      // The Rust core warns on every retried poll while a test has Temporal down on purpose.
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // already installed by an earlier test in this process: fine
  }
}

export function receiptConfig(temporalAddress: string, overrides: Partial<ReceiptWorkerConfig> = {}) {
  return {
    temporalAddress,
    temporalNamespace: 'default',
    receiptTaskQueue: 'wallet-receipts',
    chromiumPath: process.env.CHROMIUM_PATH || undefined,
    receiptPages: 2,
    receiptSweepMs: 500,
    databaseRole: 'wallet_worker',
    dbPoolSize: 8,
    receiptMaxPerSecond: 0,
    ...overrides,
  } satisfies ReceiptWorkerConfig;
}

/** A logger that keeps lines for assertions and prints nothing. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

export { silentLogger };

/** Polls `check` until it returns a value other than undefined/false; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface ReceiptRow {
  transaction_id: number;
  status: 'pending' | 'rendered';
  pdf: Buffer | null;
  pdf_size: number | null;
  pdf_sha256: string | null;
  workflow_started_at: Date | null;
  rendered_at: Date | null;
}

export async function receiptRows(admin: pg.Pool, ids?: number[]): Promise<ReceiptRow[]> {
  const { rows } = await admin.query<ReceiptRow>(
    `SELECT transaction_id, status, pdf, pdf_size, pdf_sha256, workflow_started_at, rendered_at FROM wallet.receipts
      WHERE $1::bigint[] IS NULL OR transaction_id = ANY ($1) ORDER BY transaction_id`,
    [ids ?? null],
  );
  return rows;
}

/** Waits until every given receipt (or every receipt, when ids is omitted) is rendered; returns the rows. */
export function waitForReceipts(admin: pg.Pool, ids?: number[], timeoutMs = 90_000): Promise<ReceiptRow[]> {
  return waitFor(
    `receipts ${ids?.join(', ') ?? '(all)'} to be rendered`,
    async () => {
      const rows = await receiptRows(admin, ids);
      const done = rows.length > 0 && rows.every((r) => r.status === 'rendered');
      return done && (!ids || rows.length === ids.length) ? rows : undefined;
    },
    timeoutMs,
  );
}

/** Workflow executions an operator finds for a transaction through the TransactionId search attribute. */
export async function executionsFor(client: Client, transactionId: number) {
  const found = [];
  for await (const execution of client.workflow.list({ query: `TransactionId = ${transactionId}` })) {
    found.push(execution);
  }
  return found;
}

/**
 * Waits for the receipt workflow of a transaction to complete and for visibility (eventually consistent) to
 * show it; returns every execution an operator finds for the transaction, so callers can assert there is one.
 */
export async function executionsOnceCompleted(client: Client, transactionId: number) {
  await client.workflow.getHandle(`receipt-${transactionId}`).result();
  return waitFor(`receipt-${transactionId} to be listed as completed`, async () => {
    const found = await executionsFor(client, transactionId);
    return found.some((e) => e.status.name === 'COMPLETED') ? found : undefined;
  });
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves once the worker says it started; rejects if it exits first. */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `src/worker.ts` as its own process, the way `npm run worker` does (without npm and tsx wrappers). */
export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('receipt worker started')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(({ code, signal }) =>
      reject(new Error(`worker exited before it was ready (code ${code}, signal ${signal}):\n${output}`)),
    );
  });
  ready.catch(() => undefined); // observed by the caller; never an unhandled rejection
  // A test runner that dies must not leave a worker behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  if (child.pid === undefined) throw new Error('could not spawn the worker');
  return { child, pid: child.pid, output: () => output, ready, exited };
}
