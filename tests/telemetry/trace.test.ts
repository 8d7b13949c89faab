// One trace from the HTTP request to the stored PDF, collected in memory on the real stack: the request span,
// its PostgreSQL calls, the workflow start, the workflow's own spans (through the interceptor's sink) and the
// print and store inside the activity, all under one trace id, the store carrying the transaction id. A
// receipt started later by the dispatcher gets a trace of its own, rooted at the dispatcher's start. No span
// attribute ever holds the password, the Authorization header or the Idempotency-Key.
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTracing, type Tracing } from '../../src/telemetry/tracing.js';
import { PASSWORD, postJson, type TestUser } from '../helpers/api.js';
import { type ObservedStack, startObservedStack } from '../helpers/observed-stack.js';
import { quietTemporalRuntime, waitFor } from '../helpers/receipt-worker.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing | undefined;
let stack: ObservedStack;
let alice: TestUser;
let bob: TestUser;
const KEY = 'idem-key-that-must-not-leak-7f3a';

const txOf = (span: ReadableSpan) => span.attributes['wallet.transaction_id'];
const spans = () => exporter.getFinishedSpans();
const inTrace = (traceId: string) => spans().filter((s) => s.spanContext().traceId === traceId);

function storeSpan(transactionId: number) {
  return waitFor(`the store span of transaction ${transactionId}`, () =>
    spans().find((s) => s.name === 'receipt.store' && txOf(s) === transactionId),
  );
}

beforeAll(async () => {
  quietTemporalRuntime();
  tracing = startTracing({ serviceName: 'trace-test', processor: new SimpleSpanProcessor(exporter) });
  stack = await startObservedStack('');
  alice = await stack.api.user('alice', '100.00');
  bob = await stack.api.user('bob');
}, 120_000);

afterAll(async () => {
  expect(await stack?.stop()).toEqual([]);
  await tracing?.shutdown();
});

it('follows a transfer from its HTTP request to the stored PDF in one trace', async () => {
  // The API's first start also connects to Temporal and may outlast its short wait (the receipt is then
  // deferred to the dispatcher, in a trace of its own): transfer until one is started by the request.
  const { transactionId, request } = await waitFor(
    'a transfer whose receipt the API started',
    async () => {
      const response = await postJson(
        stack.app,
        '/api/wallet/transfer/',
        alice.auth,
        { receiver_id: bob.id, amount: '1.00' },
        { 'idempotency-key': `${KEY}-${spans().length}` },
      );
      expect(response.statusCode).toBe(201);
      const id = response.json().transaction_id as number;
      const start = spans().find((s) => s.name === 'receipt.start' && txOf(s) === id);
      if (start?.attributes['wallet.receipt_start'] !== 'started') return undefined;
      const root = spans().find(
        (s) => s.spanContext().traceId === start.spanContext().traceId && s.name === 'request',
      );
      return root && { transactionId: id, request: root };
    },
    60_000,
    1000,
  );
  expect(request.attributes['http.route']).toBe('/api/wallet/transfer/');
  expect(request.attributes['http.response.status_code']).toBe(201);

  const store = await storeSpan(transactionId);
  const traceId = request.spanContext().traceId;
  expect(store.spanContext().traceId).toBe(traceId);
  await waitFor('the workflow spans', () => inTrace(traceId).some((s) => s.name.startsWith('RunWorkflow:')));
  const names = new Set(inTrace(traceId).map((s) => s.name));
  for (const name of [
    'request',
    'receipt.start',
    'StartWorkflow:receiptWorkflow',
    'RunWorkflow:receiptWorkflow',
    'StartActivity:printReceipt',
    'RunActivity:printReceipt',
    'receipt.print',
    'receipt.store',
  ]) {
    expect(names, name).toContain(name);
  }
  // The transfer's own SQL is a span of the request.
  expect(
    inTrace(traceId).some((s) =>
      String(s.attributes['db.statement'] ?? s.attributes['db.query.text']).includes('wallet.transfer'),
    ),
  ).toBe(true);
}, 120_000);

it('gives a receipt started by the dispatcher a trace from that start to its store', async () => {
  const { rows } = await stack.api.db.app.query('SELECT * FROM wallet.transfer($1, $2, 2.00)', [
    alice.id,
    bob.id,
  ]);
  const transactionId = rows[0].transaction_id as number;
  const store = await storeSpan(transactionId);
  const trace = inTrace(store.spanContext().traceId);
  const root = trace.find((s) => !s.parentSpanContext);
  expect(root?.name).toBe('receipt.dispatch');
  expect(txOf(root as ReadableSpan)).toBe(transactionId);
}, 120_000);

it('never puts a secret in a span attribute', () => {
  const secrets = [PASSWORD, alice.auth, alice.auth.slice('Basic '.length), KEY];
  const values = spans().flatMap((s) => Object.values(s.attributes).map((v) => String(JSON.stringify(v))));
  expect(values.length).toBeGreaterThan(50);
  for (const secret of secrets) expect(values.filter((v) => v.includes(secret))).toEqual([]);
  // No URL with credentials either (the database's, whose test password is a plain word).
  expect(values.filter((v) => /\/\/[^/@\s"]+:[^/@\s"]+@/.test(v))).toEqual([]);
  expect(values.some((v) => v.includes('authorization'))).toBe(false);
});

it('traces database calls only inside a traced operation (the dispatcher polls make no traces)', () => {
  const database = spans().filter((s) => s.name.startsWith('pg.'));
  expect(database.length).toBeGreaterThan(0);
  expect(database.filter((s) => !s.parentSpanContext).map((s) => s.name)).toEqual([]);
});
