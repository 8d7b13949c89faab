// Tracing is off without an OTLP endpoint and exports by OTLP (HTTP/protobuf, to <endpoint>/v1/traces) with
// one: a collector stands in on loopback and receives the spans of a traced database call.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterAll, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { currentTracing, startTracing, tracingRequested } from '../../src/telemetry/tracing.js';
import { createTestDatabase } from '../helpers/database.js';

const received: { path: string; type: string; body: Buffer }[] = [];
const collector = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (c: Buffer) => chunks.push(c));
  request.on('end', () => {
    received.push({
      path: request.url ?? '',
      type: request.headers['content-type'] ?? '',
      body: Buffer.concat(chunks),
    });
    response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

it('stays off unless an endpoint is set, or when the SDK is disabled', () => {
  expect(tracingRequested({})).toBe(false);
  expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBe(false);
  expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
  expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(
    true,
  );
  expect(
    tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }),
  ).toBe(false);
  expect(startTracing({ serviceName: 'off', env: {} })).toBeUndefined();
  expect(currentTracing()).toBeUndefined();
});

it('exports spans, the database call included, to the OTLP endpoint', async () => {
  const db = await createTestDatabase();
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint; // the exporter reads the standard variables itself
  const tracing = startTracing({ serviceName: 'otlp-test', env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
  expect(tracing).toBeDefined();
  const pool = createPool({ url: db.url, max: 1 });
  try {
    await trace.getTracer('test').startActiveSpan('outer-operation', async (span) => {
      await pool.query('SELECT wallet.receipt_backlog()');
      span.end();
    });
    await tracing?.shutdown(); // flushes the batch
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    await Promise.all([pool.end(), db.admin.end(), db.app.end(), db.worker.end()]);
  }
  expect(received.map((r) => [r.path, r.type])).toEqual([['/v1/traces', 'application/x-protobuf']]);
  const body = received[0]?.body.toString('latin1') ?? '';
  for (const text of ['otlp-test', 'outer-operation', 'pg.query', 'wallet.receipt_backlog'])
    expect(body, text).toContain(text);
});
