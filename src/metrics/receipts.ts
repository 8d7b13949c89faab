// The worker's receipt metrics: prints (duration, receipts carried, failures by kind), stores, and what is
// read at scrape time: the receipt backlog from the database and the dispatcher's state.
import type pg from 'pg';
import { Gauge } from 'prom-client';
import { ledger } from '../db/ledger.js';
import type { ReceiptBacklog as Backlog } from '../db/rows.js';
import {
  BACKLOG_METRICS,
  DISPATCHER_STATE,
  printDuration,
  receiptsPerPrint,
  renderFailures,
  storeDuration,
  workerRegistry,
} from './names.js';

function failureKind(error: unknown): string {
  if ((error as Error)?.name === 'AbortError' || (error as Error)?.name === 'TimeoutError') return 'aborted';
  if ((error as Error)?.name === 'RendererUnavailableError') return 'chromium_unavailable';
  if (/came out as \d+ pages/.test((error as Error)?.message ?? '')) return 'page_count';
  return 'other';
}

/** Times one print of `receipts` receipts and counts it, or its failure by kind. */
export async function measurePrint<T>(receipts: number, print: () => Promise<T>): Promise<T> {
  const end = printDuration.startTimer();
  try {
    const result = await print();
    end();
    receiptsPerPrint.observe(receipts);
    return result;
  } catch (error) {
    renderFailures.inc({ kind: failureKind(error) });
    throw error;
  }
}

/** Times one statement that stores receipt PDFs. */
export async function measureStore<T>(store: () => Promise<T>): Promise<T> {
  const end = storeDuration.startTimer();
  try {
    return await store();
  } finally {
    end();
  }
}

// ---- read at scrape time ----

const BACKLOG_MIN_INTERVAL_MS = 1000;
let backlogPool: Pick<pg.Pool, 'query'> | undefined;
let lastBacklog: { at: number; value: Promise<Backlog | undefined> } | undefined;

/** The backlog, read at most once a second whatever the scrape rate; concurrent scrapes share one read. A
 *  failed read leaves the last values in place (wallet_db_errors_total counts the failure). */
function backlog(): Promise<Backlog | undefined> {
  const pool = backlogPool;
  if (!pool) return Promise.resolve(undefined);
  const now = Date.now();
  if (lastBacklog && now - lastBacklog.at < BACKLOG_MIN_INTERVAL_MS) return lastBacklog.value;
  const previous = lastBacklog?.value ?? Promise.resolve(undefined);
  const value = ledger.receiptBacklog(pool).catch(() => previous);
  lastBacklog = { at: now, value };
  return value;
}

/** How many times the backlog was read from the database (tests check the once-a-second bound). */
export const backlogReads = { count: 0 };

function backlogGauge(metric: { name: string; help: string }, read: (b: Backlog) => number) {
  return new Gauge({
    ...metric,
    registers: [workerRegistry],
    async collect() {
      const value = await backlog();
      if (value) this.set(read(value));
    },
  });
}

backlogGauge(BACKLOG_METRICS.pending, (b) => b.pending);
backlogGauge(BACKLOG_METRICS.unstarted, (b) => b.unstarted);
const backlogCapped = new Gauge({
  ...BACKLOG_METRICS.capped,
  labelNames: ['count'] as const,
  registers: [workerRegistry],
  async collect() {
    const value = await backlog();
    if (!value) return;
    this.set({ count: 'pending' }, value.pending_capped ? 1 : 0);
    this.set({ count: 'unstarted' }, value.unstarted_capped ? 1 : 0);
  },
});
// Both series from the start, as the unlabelled gauges are, so an alert on them never sees nothing.
for (const count of ['pending', 'unstarted']) backlogCapped.set({ count }, 0);
backlogGauge(BACKLOG_METRICS.oldestAge, (b) =>
  b.oldest_pending_at ? Math.max(0, (Date.now() - b.oldest_pending_at.getTime()) / 1000) : 0,
);

/** Reads the receipt backlog through this pool from now on. */
export function trackReceiptBacklog(pool: Pick<pg.Pool, 'query'>): void {
  backlogPool = {
    query: ((...args: Parameters<pg.Pool['query']>) => {
      backlogReads.count++;
      return (pool.query as (...a: unknown[]) => unknown)(...args);
    }) as pg.Pool['query'],
  };
  lastBacklog = undefined;
}

const STATES = ['starting', 'failing', 'stopped'] as const;
let dispatcherState: (() => { status: string }) | undefined;

new Gauge({
  ...DISPATCHER_STATE,
  labelNames: ['state'] as const,
  registers: [workerRegistry],
  collect() {
    this.reset();
    if (!dispatcherState) return;
    const current = dispatcherState().status;
    for (const state of STATES) this.set({ state }, state === current ? 1 : 0);
  },
});

/** Reports this dispatcher's state from now on. */
export function trackDispatcher(dispatcher: { state(): { status: string } }): void {
  dispatcherState = () => dispatcher.state();
}
