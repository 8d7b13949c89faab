// After a seeded workload on the real stack (PostgreSQL, Temporal, Chromium), the counters moved by exactly
// what the workload did, and every metric name the dashboard and the alert rules use is served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postJson } from '../helpers/api.js';
import { monitoringSelectors, selectors } from '../helpers/metric-names.js';
import { delta, type Sample, scrape, total } from '../helpers/metrics.js';
import { installObservedRuntime, type ObservedStack, startObservedStack } from '../helpers/observed-stack.js';
import { seededRandom } from '../helpers/random.js';
import { receiptRows, waitFor, waitForReceipts } from '../helpers/receipt-worker.js';

let stack: ObservedStack;
const random = seededRandom('metrics workload');
const transfers = 2 + random.int(4); // succeed
const refused = 1 + random.int(3); // insufficient funds
const batchItems = 1 + random.int(3);

type Scrapes = { api: Sample[]; worker: Sample[] };
let before: Scrapes;
let after: Scrapes;
let sdk: Sample[];

async function scrapeAll(): Promise<Scrapes> {
  return { api: await scrape(stack.urls.api), worker: await scrape(stack.urls.worker) };
}

beforeAll(async () => {
  stack = await startObservedStack(await installObservedRuntime());
  const { api, app } = stack;
  const alice = await api.user('alice', '100.00');
  const bob = await api.user('bob');
  // The funding deposit's receipt first, so that `before` sees a quiet worker.
  await waitForReceipts(api.db.admin);
  before = await scrapeAll();

  const send = (amount: string, key?: string) =>
    postJson(
      app,
      '/api/wallet/transfer/',
      alice.auth,
      { receiver_id: bob.id, amount },
      key ? { 'idempotency-key': key } : {},
    );
  for (let i = 0; i < transfers; i++)
    expect((await send('1.00', i === 0 ? 'first' : undefined)).statusCode).toBe(201);
  const replay = await send('1.00', 'first');
  expect(replay.headers['idempotent-replayed']).toBe('true');
  for (let i = 0; i < refused; i++) expect((await send('1000.00')).statusCode).toBe(422);
  const batch = await postJson(app, '/api/wallet/transfer/batch/', alice.auth, {
    transfers: Array.from({ length: batchItems }, () => ({ receiver_id: bob.id, amount: '0.50' })),
  });
  expect(batch.statusCode).toBe(201);
  const hold = (amount: string) =>
    postJson(app, '/api/wallet/holds/', alice.auth, { receiver_id: bob.id, amount }).then(
      (r) => r.json().hold_id,
    );
  const [captured, released] = [await hold('2.00'), await hold('3.00')];
  expect((await postJson(app, `/api/wallet/holds/${captured}/capture/`, bob.auth, {})).statusCode).toBe(201);
  expect((await postJson(app, `/api/wallet/holds/${released}/release/`, bob.auth, {})).statusCode).toBe(200);
  expect(
    (await app.inject({ url: '/api/wallet/balance/', headers: { authorization: basic('nobody') } }))
      .statusCode,
  ).toBe(401);

  expect((await app.inject({ url: '/no/such/path/42' })).statusCode).toBe(404);
  await waitForReceipts(api.db.admin, undefined, 120_000);
  // The backlog is read at most once a second: wait for the read that sees it empty.
  await waitFor('the backlog gauge to read 0', async () => {
    const samples = await scrape(stack.urls.worker);
    return total(samples, 'wallet_receipts_pending') === 0 && samples;
  });
  after = await scrapeAll();
  sdk = await scrape(stack.urls.temporalSdk);
}, 240_000);

afterAll(async () => {
  expect(await stack?.stop()).toEqual([]);
});

describe('the API counters', () => {
  it('count money operations by outcome, exactly', () => {
    const moved = (operation: string, outcome: string) =>
      delta(before.api, after.api, 'wallet_operations_total', { operation, outcome });
    expect(moved('transfer', 'ok')).toBe(transfers);
    expect(moved('transfer', 'replayed')).toBe(1);
    expect(moved('transfer', 'insufficient_funds')).toBe(refused);
    expect(moved('batch_item', 'ok')).toBe(batchItems);
    expect(moved('hold', 'ok')).toBe(2);
    expect(moved('capture', 'ok')).toBe(1);
    expect(moved('release', 'ok')).toBe(1);
    expect(delta(before.api, after.api, 'wallet_idempotent_replays_total', { operation: 'transfer' })).toBe(
      1,
    );
  });

  it('time requests by route template, method and status', () => {
    const requests = (route: string, status: string) =>
      delta(before.api, after.api, 'http_server_request_duration_seconds_count', {
        http_route: route,
        http_request_method: 'POST',
        http_response_status_code: status,
      });
    expect(requests('/api/wallet/transfer/', '201')).toBe(transfers + 1);
    expect(requests('/api/wallet/transfer/', '422')).toBe(refused);
    expect(requests('/api/wallet/holds/:hold_id/capture/', '201')).toBe(1);
    // Ids never become labels: a path no route knows is 'unmatched'.
    expect(after.api.some((s) => /\d/.test(s.labels.http_route ?? ''))).toBe(false);
    const unmatched = { http_route: 'unmatched', http_response_status_code: '404' };
    expect(delta(before.api, after.api, 'http_server_request_duration_seconds_count', unmatched)).toBe(1);
    expect(total(after.api, 'http_server_active_requests')).toBe(0);
  });

  it('count each receipt start once, started or deferred, and database errors by SQLSTATE class', () => {
    const starts = delta(before.api, after.api, 'wallet_receipt_starts_total');
    // The capture made a transaction too; a batch's receipts are started by the dispatcher (one workflow per
    // group), never by the API, so its items count here as nothing.
    expect(starts).toBe(transfers + 1);
    expect(delta(before.api, after.api, 'wallet_db_errors_total', { sqlstate_class: 'W1' })).toBe(refused);
    expect(total(after.api, 'wallet_db_pool_max_connections', { pool: 'api' })).toBe(10);
  });
});

describe('the worker', () => {
  it('counts every receipt rendered once, and the prints that carried them', async () => {
    const rows = await receiptRows(stack.api.db.admin);
    const rendered = delta(before.worker, after.worker, 'wallet_receipts_rendered_total');
    expect(rendered).toBe(transfers + batchItems + 1);
    expect(rows.filter((r) => r.status === 'rendered')).toHaveLength(rows.length);
    expect(delta(before.worker, after.worker, 'wallet_receipts_per_print_sum')).toBeGreaterThanOrEqual(
      rendered,
    );
    expect(delta(before.worker, after.worker, 'wallet_receipt_store_duration_seconds_count')).toBeGreaterThan(
      0,
    );
    expect(total(after.worker, 'wallet_dispatcher_state', { state: 'starting' })).toBe(1);
    expect(total(after.worker, 'wallet_receipt_oldest_pending_age_seconds')).toBe(0);
  });

  it('serves the Temporal SDK metrics on their own port', () => {
    expect(sdk.some((s) => s.name.startsWith('temporal_workflow_task_schedule_to_start_latency'))).toBe(true);
  });
});

describe('the dashboard and the alert rules', () => {
  it('use only metric names that are served, with the labels they match on', async () => {
    const served = [...after.api, ...after.worker, ...sdk];
    const names = new Set(served.map((s) => s.name));
    const used = await monitoringSelectors();
    const missing = used.filter((s) => !names.has(s.metric)).map((s) => s.metric);
    expect(missing, `served: ${[...names].sort().join(' ')}`).toEqual([]);
    for (const { metric, labels, expr } of used) {
      for (const label of labels)
        expect(
          served.some((s) => s.name === metric && label in s.labels),
          `${label} of ${metric} in ${expr}`,
        ).toBe(true);
    }
    expect(new Set(used.map((s) => s.metric)).size).toBeGreaterThan(20);
  });

  it('are PromQL a renamed metric or a typo cannot slip through', () => {
    expect(selectors('sum by (kind) (rate(wallet_x_total{kind="a"}[5m]))')).toEqual([
      {
        metric: 'wallet_x_total',
        labels: ['kind'],
        expr: 'sum by (kind) (rate(wallet_x_total{kind="a"}[5m]))',
      },
    ]);
    expect(() => selectors('sum(rate(wallet_x_total[5m])')).toThrow(/not valid PromQL/);
  });
});
