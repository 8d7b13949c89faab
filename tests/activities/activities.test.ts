// The receipt activities in MockActivityEnvironment against a real database: what they load and store, the
// non-retryable missing transaction, heartbeats while rendering, idempotent storing, cancellation.
import { createHash } from 'node:crypto';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import type { ReceiptDocument } from '../../src/activities/receipt-document.js';
import { type ReceiptRenderer, RendererUnavailableError } from '../../src/activities/renderer.js';
import { sleep } from '../../src/activities/slots.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';

/** A renderer without Chromium: a fixed "PDF" after a configurable pause, or a configured failure. */
function fakeRenderer(opts: { pauseMs?: number; fail?: Error } = {}) {
  const calls: number[] = [];
  const renderer: ReceiptRenderer = {
    size: 1,
    busy: 0,
    async start() {},
    async close() {},
    browserPid: () => undefined,
    async render(doc, { signal } = {}) {
      calls.push(doc.transactionId);
      await sleep(opts.pauseMs ?? 0, signal);
      if (opts.fail) throw opts.fail;
      return Buffer.from(`%PDF-1.7 receipt ${doc.transactionId} call ${calls.length}`);
    },
    renderHtml: async () => Buffer.from('%PDF-1.7'),
  };
  return { renderer, calls };
}

/** The SDK logs each failed attempt at WARN; these tests fail activities on purpose. */
function mockEnv(): MockActivityEnvironment {
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
}

/** env.run with the activity's own result type (the SDK's signature cannot infer it). */
function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return mockEnv().run(fn, ...args) as Promise<R>;
}

let db: TestDatabase;
let transferId: number;
let depositId: number;
let alice: number;
let bob: number;

beforeAll(async () => {
  db = await createTestDatabase();
  alice = await fundedUser(db.admin, 'alice', '100.00');
  bob = await fundedUser(db.admin, 'bob');
  const { rows } = await db.app.query('SELECT * FROM wallet.transfer($1, $2, 12.34)', [alice, bob]);
  transferId = rows[0].transaction_id;
  const deposit = await db.app.query('SELECT * FROM wallet.deposit($1, 5)', [bob]);
  depositId = deposit.rows[0].transaction_id;
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('loadReceiptDocument', () => {
  it('loads a transfer with both parties, the exact amount and the record fingerprint', async () => {
    const { loadReceiptDocument } = createActivities({ pool: db.app, renderer: fakeRenderer().renderer });
    const doc = await run(loadReceiptDocument, transferId);
    expect(doc).toMatchObject({
      transactionId: transferId,
      kind: 'transfer',
      sender: { id: alice, username: 'alice' },
      receiver: { id: bob, username: 'bob' },
      amount: '12.34',
    });
    expect(doc.recordSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(new Date(doc.createdAt).toISOString()).toBe(doc.createdAt);
    // JSON-safe: it travels through workflow history unchanged.
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('loads a deposit without a sender', async () => {
    const { loadReceiptDocument } = createActivities({ pool: db.app, renderer: fakeRenderer().renderer });
    const doc = await mockEnv().run(loadReceiptDocument, depositId);
    expect(doc).toMatchObject({ kind: 'deposit', sender: null, receiver: { id: bob }, amount: '5.00' });
  });

  it('loads a capture with the hold it settles', async () => {
    const { loadReceiptDocument } = createActivities({ pool: db.app, renderer: fakeRenderer().renderer });
    const [from, to] = [await fundedUser(db.admin, 'holder', '9.00'), await fundedUser(db.admin, 'taker')];
    const holdId = (await db.admin.query('SELECT hold_id FROM wallet.hold($1, $2, 9)', [from, to])).rows[0]
      .hold_id;
    const captured = await db.admin.query('SELECT transaction_id FROM wallet.capture($1, 4)', [holdId]);
    const doc = await mockEnv().run(loadReceiptDocument, captured.rows[0].transaction_id);
    expect(doc).toMatchObject({
      kind: 'capture',
      holdId,
      sender: { id: from },
      receiver: { id: to },
      amount: '4.00',
    });
  });

  it('fails non-retryably for a transaction that does not exist', async () => {
    const { loadReceiptDocument } = createActivities({ pool: db.app, renderer: fakeRenderer().renderer });
    const error = await rejection(mockEnv().run(loadReceiptDocument, 987_654));
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'TransactionNotFound', nonRetryable: true });
    expect((error as Error).message).toContain('987654');
  });
});

describe('renderAndStoreReceipt', () => {
  async function documentFor(id: number): Promise<ReceiptDocument> {
    const { loadReceiptDocument } = createActivities({ pool: db.app, renderer: fakeRenderer().renderer });
    return run(loadReceiptDocument, id);
  }

  it('stores the PDF with its size and SHA-256, heartbeating while it renders', async () => {
    const { renderer } = fakeRenderer({ pauseMs: 2_500 });
    const { renderAndStoreReceipt } = createActivities({ pool: db.app, renderer });
    const env = mockEnv();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));

    const result = await env.run(renderAndStoreReceipt, await documentFor(transferId));

    const { rows } = await db.admin.query('SELECT * FROM wallet.receipts WHERE transaction_id = $1', [
      transferId,
    ]);
    const row = rows[0];
    expect(row.status).toBe('rendered');
    expect(row.pdf.toString()).toBe(`%PDF-1.7 receipt ${transferId} call 1`);
    expect(result).toEqual({
      transactionId: transferId,
      pdfSize: row.pdf.length,
      pdfSha256: createHash('sha256').update(row.pdf).digest('hex'),
      storedNow: true,
    });
    expect(result).not.toHaveProperty('pdf'); // the bytes stay out of workflow history
    // One a second while the render runs (2.5 s here); none before the first second.
    expect(beats.length).toBeGreaterThanOrEqual(2);
    for (const beat of beats) expect(beat).toEqual({ stage: 'rendering', transactionId: transferId });
  });

  it('keeps the first PDF when an attempt is repeated', async () => {
    const doc = await documentFor(transferId);
    const { rows: before } = await db.admin.query(
      'SELECT pdf_sha256 FROM wallet.receipts WHERE transaction_id = $1',
      [transferId],
    );
    const { renderer } = fakeRenderer();
    const again = await run(createActivities({ pool: db.app, renderer }).renderAndStoreReceipt, doc);
    expect(again.storedNow).toBe(false);
    expect(again.pdfSha256).toBe(before[0].pdf_sha256);
  });

  it('lets a dead browser be retried: the failure is not marked non-retryable', async () => {
    const doc = await documentFor(depositId);
    const { renderer } = fakeRenderer({ fail: new RendererUnavailableError('Chromium went away') });
    const error = await rejection(
      mockEnv().run(createActivities({ pool: db.app, renderer }).renderAndStoreReceipt, doc),
    );
    expect(error).toBeInstanceOf(RendererUnavailableError);
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    const { rows } = await db.admin.query('SELECT status FROM wallet.receipts WHERE transaction_id = $1', [
      depositId,
    ]);
    expect(rows[0].status).toBe('pending');
  });

  it('fails non-retryably when the transaction has no receipt row', async () => {
    const doc = { ...(await documentFor(depositId)), transactionId: 987_654 };
    const { renderer } = fakeRenderer();
    const error = await rejection(
      mockEnv().run(createActivities({ pool: db.app, renderer }).renderAndStoreReceipt, doc),
    );
    expect(error).toMatchObject({ type: 'TransactionNotFound', nonRetryable: true });
  });

  it('stops rendering when the activity is cancelled, storing nothing', async () => {
    const doc = await documentFor(depositId);
    const { renderer } = fakeRenderer({ pauseMs: 30_000 });
    const env = mockEnv();
    const running = env.run(createActivities({ pool: db.app, renderer }).renderAndStoreReceipt, doc);
    env.once('heartbeat', () => env.cancel()); // the first heartbeat comes a second into the render
    const error = await rejection(running);
    expect(error).toBeInstanceOf(CancelledFailure);
    const { rows } = await db.admin.query('SELECT status FROM wallet.receipts WHERE transaction_id = $1', [
      depositId,
    ]);
    expect(rows[0].status).toBe('pending');
  });
});
