// Prints are timed, their receipts counted, and their failures counted by kind from the error the renderer
// throws; the metrics server serves only GET /metrics.
import { afterAll, expect, it } from 'vitest';
import { RendererUnavailableError } from '../../src/activities/renderer.js';
import { workerRegistry } from '../../src/metrics/names.js';
import { measurePrint } from '../../src/metrics/receipts.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { delta, scrape } from '../helpers/metrics.js';

const server = await startMetricsServer(workerRegistry, '127.0.0.1', 0);
afterAll(() => server.close());

const timeout = Object.assign(new Error('Waiting failed: 30000ms exceeded'), { name: 'TimeoutError' });

it('counts a print, its receipts and each failure under its kind', async () => {
  const before = await scrape(server.url);
  await measurePrint(7, async () => 'pdf');
  const failures = [
    new RendererUnavailableError('Chromium disconnected during the render'),
    new Error('a print of 5 receipts came out as 6 pages'),
    timeout,
    new Error('something else'),
  ];
  for (const error of failures)
    await expect(measurePrint(1, () => Promise.reject(error))).rejects.toBe(error);
  const after = await scrape(server.url);
  expect(delta(before, after, 'wallet_receipt_print_duration_seconds_count')).toBe(1);
  expect(delta(before, after, 'wallet_receipts_per_print_sum')).toBe(7);
  for (const kind of ['chromium_unavailable', 'page_count', 'aborted', 'other'])
    expect(delta(before, after, 'wallet_receipt_render_failures_total', { kind }), kind).toBe(1);
});

it('serves GET /metrics in Prometheus text format and nothing else', async () => {
  const response = await fetch(server.url);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  // The worker's registry in the exposition format: a counter with its TYPE line, at 0 before any restart.
  const text = await response.text();
  expect(text).toContain('# TYPE wallet_chromium_restarts_total counter');
  expect(text).toMatch(/^wallet_chromium_restarts_total \d+$/m);
  expect((await fetch(server.url.replace('/metrics', '/'))).status).toBe(404);
  expect((await fetch(server.url, { method: 'POST' })).status).toBe(404);
});
