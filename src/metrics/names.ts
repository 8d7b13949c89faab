// Every metric this project serves, in one place: its name, what it measures, its labels. The dashboard
// (deploy/grafana/dashboards/wallet.json) and the alert rules (deploy/prometheus/alerts.yml) refer to these
// names, and tests/metrics/workload.test.ts fails when one they use is not served.
// Prometheus conventions: base units (_seconds), counters end in _total, labels from small closed sets (route
// templates, methods, statuses, outcomes, SQLSTATE classes), never ids, usernames or keys. HTTP names follow
// OpenTelemetry's semantic conventions as Prometheus spells them (http.server.request.duration).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RECEIPT_BACKLOG_COUNT_CAP } from '../db/rows.js';

/** What the API process serves on METRICS_PORT. */
export const apiRegistry = new Registry();
/** What the worker process serves on WORKER_METRICS_PORT (the Temporal SDK's own are on TEMPORAL_METRICS_PORT). */
export const workerRegistry = new Registry();
const both = [apiRegistry, workerRegistry];

// OpenTelemetry's advice for HTTP server durations.
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

// ---- API ------------------------------------------------------------------------------------------------

export const httpRequestDuration = new Histogram({
  name: 'http_server_request_duration_seconds',
  help: 'Time to answer an HTTP request, by route template, method and status',
  labelNames: ['http_route', 'http_request_method', 'http_response_status_code'] as const,
  buckets: HTTP_BUCKETS,
  registers: [apiRegistry],
});

export const httpActiveRequests = new Gauge({
  name: 'http_server_active_requests',
  help: 'HTTP requests being answered right now',
  registers: [apiRegistry],
});

/** operation: transfer, deposit, batch_item, hold, capture, release, refund (a new money route adds its own).
 *  outcome: ok, replayed, or the error code the client got (insufficient_funds, same_wallet, ...). */
export const moneyOperations = new Counter({
  name: 'wallet_operations_total',
  help: 'Money operations answered, by operation and outcome (ok, replayed or the error code sent)',
  labelNames: ['operation', 'outcome'] as const,
  registers: [apiRegistry],
});

export const idempotentReplays = new Counter({
  name: 'wallet_idempotent_replays_total',
  help: 'Requests answered from a stored response (same Idempotency-Key, same body), by operation',
  labelNames: ['operation'] as const,
  registers: [apiRegistry],
});

export const receiptStarts = new Counter({
  name: 'wallet_receipt_starts_total',
  help: 'Receipt workflow starts after a commit: started by the API, or deferred to the dispatcher',
  labelNames: ['result'] as const,
  registers: [apiRegistry],
});

// ---- both processes ---------------------------------------------------------------------------------------

/** class: the SQLSTATE's first two characters (W1 is the ledger's own, 40 serialization, 57 operator
 *  intervention, 08 connection); 'connection' for a failure with no SQLSTATE (refused, reset, pool timeout). */
export const databaseErrors = new Counter({
  name: 'wallet_db_errors_total',
  help: 'Failed database calls, by SQLSTATE class',
  labelNames: ['sqlstate_class'] as const,
  registers: both,
});

// Pool gauges are read at scrape time (src/metrics/pool.ts); `pool` is api or worker.
export const poolLabels = ['pool'] as const;
export const POOL_METRICS = {
  total: { name: 'wallet_db_pool_connections', help: 'Open connections in the pool' },
  idle: { name: 'wallet_db_pool_idle_connections', help: 'Open connections not in use' },
  waiting: { name: 'wallet_db_pool_waiting_requests', help: 'Callers waiting for a connection' },
  max: { name: 'wallet_db_pool_max_connections', help: 'The pool size limit (DB_POOL_SIZE)' },
} as const;

// ---- worker -----------------------------------------------------------------------------------------------

export const receiptsRendered = new Counter({
  name: 'wallet_receipts_rendered_total',
  help: 'Receipt PDFs printed and stored by this worker (a receipt counts once)',
  registers: [workerRegistry],
});

export const receiptsPerPrint = new Histogram({
  name: 'wallet_receipts_per_print',
  help: 'Receipts carried by one Chromium print (coalescing; RECEIPT_BATCH_MAX bounds it)',
  buckets: [1, 2, 5, 10, 20, 50, 100, 200],
  registers: [workerRegistry],
});

export const printDuration = new Histogram({
  name: 'wallet_receipt_print_duration_seconds',
  help: 'Time of one Chromium print (all the receipts it carries), waiting for a page included',
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [workerRegistry],
});

export const storeDuration = new Histogram({
  name: 'wallet_receipt_store_duration_seconds',
  help: 'Time of one statement storing receipt PDFs (a batch of them)',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
  registers: [workerRegistry],
});

/** kind: chromium_unavailable (crashed or closed), page_count (a print came out wrong), aborted (timed out or
 *  cancelled), other. */
export const renderFailures = new Counter({
  name: 'wallet_receipt_render_failures_total',
  help: 'Failed Chromium prints, by kind',
  labelNames: ['kind'] as const,
  registers: [workerRegistry],
});

export const chromiumRestarts = new Counter({
  name: 'wallet_chromium_restarts_total',
  help: 'Chromium launches after the first one (the browser crashed or was killed)',
  registers: [workerRegistry],
});

export const dispatcherClaimed = new Counter({
  name: 'wallet_dispatcher_claimed_total',
  help: 'Pending receipts the dispatcher claimed (leased) to start their workflows',
  registers: [workerRegistry],
});

export const dispatcherStarted = new Counter({
  name: 'wallet_dispatcher_started_total',
  help: 'Receipt workflows the dispatcher started',
  registers: [workerRegistry],
});

/** kind: database, temporal (unreachable or slow), start (the server refused). */
export const dispatcherFailures = new Counter({
  name: 'wallet_dispatcher_failures_total',
  help: 'Dispatcher attempts that failed, by kind (each backs off)',
  labelNames: ['kind'] as const,
  registers: [workerRegistry],
});

// Closed label sets start at zero, so a rate() or an alert sees the series before the first event.
for (const result of ['started', 'deferred']) receiptStarts.inc({ result }, 0);
for (const kind of ['chromium_unavailable', 'page_count', 'aborted', 'other'])
  renderFailures.inc({ kind }, 0);
for (const kind of ['database', 'temporal', 'start']) dispatcherFailures.inc({ kind }, 0);

// Read at scrape time (src/metrics/receipts.ts).
export const DISPATCHER_STATE = {
  name: 'wallet_dispatcher_state',
  help: 'The dispatcher state: 1 for the current one of starting, failing, stopped',
} as const;
// The counts stop at the cap (wallet.receipt_backlog() costs the same at any backlog): the gauges saturate
// there and wallet_receipts_backlog_capped says which one is "more than". The oldest age stays exact.
const CAP = RECEIPT_BACKLOG_COUNT_CAP.toLocaleString('en');
export const BACKLOG_METRICS = {
  pending: {
    name: 'wallet_receipts_pending',
    help: `Receipts not rendered yet (the database count), saturating at ${CAP}: see wallet_receipts_backlog_capped`,
  },
  unstarted: {
    name: 'wallet_receipts_unstarted',
    help: `Pending receipts whose workflow has not been started yet, saturating at ${CAP}`,
  },
  capped: {
    name: 'wallet_receipts_backlog_capped',
    help: `1 when the count (pending or unstarted) is above ${CAP} and its gauge shows ${CAP}, else 0`,
  },
  oldestAge: {
    name: 'wallet_receipt_oldest_pending_age_seconds',
    help: 'Age of the oldest pending receipt; 0 when none is pending',
  },
} as const;
