// The receipt activities in MockActivityEnvironment against a real database: what they load and store, the
// non-retryable missing transaction, batched loads and stores, idempotent storing, heartbeats of the legacy
// render activity, cancellation.
import { createHash } from 'node:crypto';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createActivities, HEARTBEAT_EVERY_MS, type StoredReceipt } from '../../src/activities/index.js';
import type { ReceiptDocument } from '../../src/activities/receipt-document.js';
import { type ReceiptRenderer, RendererUnavailableError } from '../../src/activities/renderer.js';
import { sleep } from '../../src/activities/slots.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';

/** A renderer without Chromium: a fixed "PDF" after a configurable pause, or a configured failure. */
function fakeRenderer(opts: { pauseMs?: number; fail?: Error; label?: string } = {}) {
  const calls: number[] = [];
  const renderer: ReceiptRenderer = {
    size: 1,
    busy: 0,
    counts: { prints: 0, receipts: 0 },
    async start() {},
    async close() {},
    browserPid: () => undefined,
    async render(doc, { signal } = {}) {
      calls.push(doc.transactionId);
      if (opts.pauseMs) await sleep(opts.pauseMs, signal); // else all renders of a tick end together, as a print's do
      if (opts.fail) throw opts.fail;
      return Buffer.from(`%PDF-1.7 receipt ${doc.transactionId} call ${calls.length}${opts.label ?? ''}`);
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
    const { loadReceiptDocument } = createActivities({ pool: db.worker, renderer: fakeRenderer().renderer });
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
    const { loadReceiptDocument } = createActivities({ pool: db.worker, renderer: fakeRenderer().renderer });
    const doc = await mockEnv().run(loadReceiptDocument, depositId);
    expect(doc).toMatchObject({ kind: 'deposit', sender: null, receiver: { id: bob }, amount: '5.00' });
  });

  it('loads a capture with the hold it settles', async () => {
    const { loadReceiptDocument } = createActivities({ pool: db.worker, renderer: fakeRenderer().renderer });
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
    const { loadReceiptDocument } = createActivities({ pool: db.worker, renderer: fakeRenderer().renderer });
    const error = await rejection(mockEnv().run(loadReceiptDocument, 987_654));
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'TransactionNotFound', nonRetryable: true });
    expect((error as Error).message).toContain('987654');
  });
});

/** db.worker, counting the statements by their prepared name. */
function countingPool() {
  const names: string[] = [];
  const pool = {
    query: ((config: { name?: string }, values?: unknown[]) => {
      names.push(config.name ?? '?');
      return db.worker.query(config as never, values as never);
    }) as typeof db.worker.query,
  };
  return { pool, names };
}

async function receiptRow(id: number) {
  const { rows } = await db.admin.query('SELECT * FROM wallet.receipts WHERE transaction_id = $1', [id]);
  return rows[0];
}

describe('printReceipt', () => {
  it('loads and stores the receipts that print together in one statement each', async () => {
    const ids: number[] = [];
    for (const amount of ['1.00', '2.00', '3.00', '4.00']) {
      const { rows } = await db.app.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [
        alice,
        bob,
        amount,
      ]);
      ids.push(rows[0].transaction_id);
    }
    const { pool, names } = countingPool();
    const { printReceipt } = createActivities({ pool, renderer: fakeRenderer().renderer });
    const results = await Promise.all(ids.map((id) => run(printReceipt, id)));

    expect(names).toEqual(['wallet.receipt_documents', 'wallet.store_receipt_pdfs']);
    for (const [i, id] of ids.entries()) {
      const row = await receiptRow(id);
      expect(row.status).toBe('rendered');
      expect(row.pdf.toString()).toMatch(new RegExp(`^%PDF-1.7 receipt ${id} call \\d$`));
      expect(results[i]).toEqual({
        transactionId: id,
        pdfSize: row.pdf.length,
        pdfSha256: createHash('sha256').update(row.pdf).digest('hex'),
        storedNow: true,
      });
    }
  });

  it('never replaces a stored PDF: a second, different print changes neither bytes nor rendered_at', async () => {
    const { rows } = await db.app.query('SELECT * FROM wallet.transfer($1, $2, 0.50)', [alice, bob]);
    const id: number = rows[0].transaction_id;
    const first = await run(
      createActivities({ pool: db.worker, renderer: fakeRenderer().renderer }).printReceipt,
      id,
    );
    const before = await receiptRow(id);

    const other = fakeRenderer({ label: ' a different print' });
    // Another execution for the same transaction (a duplicate workflow): it prints, but stores nothing.
    const again = (await new MockActivityEnvironment(
      { workflowExecution: { workflowId: `receipt-${id}`, runId: 'another-execution' } },
      { logger: new DefaultLogger('ERROR') },
    ).run(createActivities({ pool: db.worker, renderer: other.renderer }).printReceipt, id)) as StoredReceipt;
    expect(other.calls).toEqual([id]); // it really printed something else
    const after = await receiptRow(id);
    expect(first.storedNow).toBe(true);
    expect(again).toEqual({ ...first, storedNow: false });
    expect(after.pdf.equals(before.pdf)).toBe(true);
    expect(after.pdf.toString()).not.toContain('a different print');
    expect(after.rendered_at).toEqual(before.rendered_at);
  });

  it('reports storedNow for one of two executions racing for a receipt, and again for a retry of that one', async () => {
    const { rows } = await db.app.query('SELECT * FROM wallet.transfer($1, $2, 0.75)', [alice, bob]);
    const id: number = rows[0].transaction_id;
    const { printReceipt } = createActivities({ pool: db.worker, renderer: fakeRenderer().renderer });
    const inRun = (runId: string) =>
      new MockActivityEnvironment(
        { workflowExecution: { workflowId: `receipt-${id}`, runId } },
        { logger: new DefaultLogger('ERROR') },
      ).run(printReceipt, id) as Promise<StoredReceipt>;
    const [a, b] = await Promise.all([inRun('run-a'), inRun('run-b')]);
    expect([a.storedNow, b.storedNow].sort()).toEqual([false, true]);
    expect(a.pdfSha256).toBe(b.pdfSha256);
    const [winner, loser] = a.storedNow ? ['run-a', 'run-b'] : ['run-b', 'run-a'];
    // The winner's attempt again (its workflow task was lost after the store): the same receipt, still its own.
    expect(await inRun(winner as string)).toMatchObject({ storedNow: true, pdfSha256: a.pdfSha256 });
    expect(await inRun(loser as string)).toMatchObject({ storedNow: false, pdfSha256: a.pdfSha256 });
  });

  it('fails non-retryably for a missing transaction, and its batch neighbour still gets its receipt', async () => {
    const { rows } = await db.app.query('SELECT * FROM wallet.transfer($1, $2, 0.25)', [alice, bob]);
    const id: number = rows[0].transaction_id;
    const { printReceipt } = createActivities({ pool: db.worker, renderer: fakeRenderer().renderer });
    const [missing, found] = await Promise.all([
      rejection(run(printReceipt, 987_655)),
      run(printReceipt, id),
    ]);
    expect(missing).toBeInstanceOf(ApplicationFailure);
    expect(missing).toMatchObject({ type: 'TransactionNotFound', nonRetryable: true });
    expect(found.storedNow).toBe(true);
  });
});

describe('renderAndStoreReceipt (the first workflow version, for receipts in flight)', () => {
  async function documentFor(id: number): Promise<ReceiptDocument> {
    const { loadReceiptDocument } = createActivities({ pool: db.worker, renderer: fakeRenderer().renderer });
    return run(loadReceiptDocument, id);
  }

  it('stores the PDF with its size and SHA-256, one heartbeat per second of rendering, none once stored', async () => {
    // Counted per step of a render driven by the test's clock, not in wall time: each step moves the
    // activity's interval by one period and must bring exactly one heartbeat.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const fake = fakeRenderer();
      const env = mockEnv();
      const beats: unknown[] = [];
      env.on('heartbeat', (details: unknown) => beats.push(details));
      const perStep: number[] = [];
      const renderer: ReceiptRenderer = {
        ...fake.renderer,
        async render(doc, options) {
          for (let step = 0; step < 3; step++) {
            vi.advanceTimersByTime(HEARTBEAT_EVERY_MS);
            perStep.push(beats.length);
          }
          return fake.renderer.render(doc, options);
        },
      };
      const { renderAndStoreReceipt } = createActivities({ pool: db.worker, renderer });

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
      expect(perStep).toEqual([1, 2, 3]);
      for (const beat of beats) expect(beat).toEqual({ stage: 'rendering', transactionId: transferId });
      // Stored: the interval is gone, however much time passes.
      vi.advanceTimersByTime(10 * HEARTBEAT_EVERY_MS);
      expect(beats).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the first PDF when an attempt is repeated with a different print', async () => {
    const doc = await documentFor(transferId);
    const before = await receiptRow(transferId);
    const { renderer } = fakeRenderer({ label: ' repeated' });
    const again = await run(createActivities({ pool: db.worker, renderer }).renderAndStoreReceipt, doc);
    // The same execution tried again (its first store above): still its receipt, and still the first bytes.
    expect(again.storedNow).toBe(true);
    const after = await receiptRow(transferId);
    expect(after.pdf.equals(before.pdf)).toBe(true);
    expect(after.rendered_at).toEqual(before.rendered_at);
    expect(again.pdfSha256).toBe(before.pdf_sha256);
  });

  it('lets a dead browser be retried: the failure is not marked non-retryable', async () => {
    const doc = await documentFor(depositId);
    const { renderer } = fakeRenderer({ fail: new RendererUnavailableError('Chromium went away') });
    const error = await rejection(
      mockEnv().run(createActivities({ pool: db.worker, renderer }).renderAndStoreReceipt, doc),
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
      mockEnv().run(createActivities({ pool: db.worker, renderer }).renderAndStoreReceipt, doc),
    );
    expect(error).toMatchObject({ type: 'TransactionNotFound', nonRetryable: true });
  });

  it('stops rendering when the activity is cancelled, storing nothing', async () => {
    const doc = await documentFor(depositId);
    const { renderer } = fakeRenderer({ pauseMs: 30_000 });
    const env = mockEnv();
    const running = env.run(createActivities({ pool: db.worker, renderer }).renderAndStoreReceipt, doc);
    env.once('heartbeat', () => env.cancel()); // the first heartbeat comes a second into the render
    const error = await rejection(running);
    expect(error).toBeInstanceOf(CancelledFailure);
    const { rows } = await db.admin.query('SELECT status FROM wallet.receipts WHERE transaction_id = $1', [
      depositId,
    ]);
    expect(rows[0].status).toBe('pending');
  });
});
