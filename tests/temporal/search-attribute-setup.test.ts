// A worker that sets itself up: against a plain `temporal server start-dev` (no search attributes, as a fresh
// cluster is) the worker and the API create the receipt search attributes, and a transfer gets its PDF.
// The refusal paths: a fake operator service (a dev server never refuses), and a real missing namespace.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createTemporalReceiptStarter } from '../../src/api/receipts.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import {
  ensureReceiptSearchAttributes,
  type SearchAttributeAdmin,
  SearchAttributeSetupError,
} from '../../src/temporal/search-attribute-setup.js';
import { TransactionIdKey } from '../../src/temporal/search-attributes.js';
import { type ApiContext, createApiContext, testConfig } from '../helpers/api.js';
import { spawnWorker, waitFor, waitForReceipts } from '../helpers/receipt-worker.js';
import { startTestTemporal } from '../helpers/temporal.js';

const INT = 3; // IndexedValueType INT
const KEYWORD_LIST = 7; // IndexedValueType KEYWORD_LIST
const grpcError = (code: number, details: string) =>
  Object.assign(new Error(details), { code, details, metadata: {} });

let ctx: ApiContext;
// Three plain servers: one per test that needs a namespace nobody has set up yet.
let raceServer: DevServer;
let workerServer: DevServer;
let apiServer: DevServer;
beforeAll(async () => {
  ctx = await createApiContext();
  const plain = () => startTestTemporal({ searchAttributes: false });
  [raceServer, workerServer, apiServer] = await Promise.all([plain(), plain(), plain()]);
}, 120_000);
afterAll(async () => {
  await Promise.all([raceServer, workerServer, apiServer].map((s) => s?.stop()));
}, 20_000);

function fakeAdmin(existing: Record<string, number>, add: (attrs: Record<string, number>) => void) {
  return {
    listSearchAttributes: async () => ({ customAttributes: { ...existing } }),
    addSearchAttributes: async ({ searchAttributes }: { searchAttributes: Record<string, number> }) =>
      add(searchAttributes),
  } as unknown as SearchAttributeAdmin;
}

describe('ensureReceiptSearchAttributes (fake operator service)', () => {
  it('explains a refusal with the command an operator runs', async () => {
    const admin = fakeAdmin({}, () => {
      throw grpcError(7, 'Request unauthorized.');
    });
    const error = await ensureReceiptSearchAttributes(admin, 'payments').catch((e) => e);
    expect(error).toBeInstanceOf(SearchAttributeSetupError);
    expect(error.message).toContain('Request unauthorized.');
    expect(error.message).toContain(
      'temporal operator search-attribute create --namespace payments --name TransactionId --name SenderId --name ReceiverId --type Int' +
        ' && temporal operator search-attribute create --namespace payments --name TransactionIds --type KeywordList',
    );
  });

  it('takes "already exists" from a concurrent creator as success, after checking again', async () => {
    const existing: Record<string, number> = { SenderId: INT };
    const admin = fakeAdmin(existing, (attrs) => {
      Object.assign(existing, { TransactionId: INT, ReceiverId: INT, TransactionIds: KEYWORD_LIST }); // the other process won
      throw grpcError(6, `search attributes ${Object.keys(attrs)} already exist`);
    });
    await expect(ensureReceiptSearchAttributes(admin, 'default')).resolves.toEqual([]);
  });

  it('refuses to go on when an attribute exists with another type', async () => {
    const admin = fakeAdmin(
      { TransactionId: 2, SenderId: INT, ReceiverId: INT, TransactionIds: KEYWORD_LIST },
      () => undefined,
    );
    await expect(ensureReceiptSearchAttributes(admin, 'default')).rejects.toThrow(
      /TransactionId exists in namespace "default" with another type \(INDEXED_VALUE_TYPE_KEYWORD\)/,
    );
  });
});

describe('against a plain dev server', () => {
  it('creates the three Int attributes and the KeywordList, with four processes racing', async () => {
    const clients = await Promise.all(
      [1, 2, 3, 4].map(() => connectTemporalClient({ address: raceServer.address, namespace: 'default' })),
    );
    try {
      const created = await Promise.all(
        clients.map((c) => ensureReceiptSearchAttributes(c.connection.operatorService, 'default')),
      );
      expect(created.flat().sort()).toEqual(
        expect.arrayContaining(['ReceiverId', 'SenderId', 'TransactionId', 'TransactionIds']),
      );
      const [first, second] = clients as [Client, Client];
      const listed = await first.connection.operatorService.listSearchAttributes({
        namespace: 'default',
      });
      for (const name of ['TransactionId', 'SenderId', 'ReceiverId'])
        expect(listed.customAttributes[name]).toBe(INT);
      expect(listed.customAttributes.TransactionIds).toBe(KEYWORD_LIST);
      expect(await ensureReceiptSearchAttributes(second.connection.operatorService, 'default')).toEqual([]);
    } finally {
      await Promise.all(clients.map((c) => c.connection.close()));
    }
  });

  it('the worker sets the namespace up; /ready said why starts failed until then; the PDF arrives', async () => {
    const address = workerServer.address;
    // An API client that does not set up the namespace, to see /ready report the failing starts.
    const receipts = createTemporalReceiptStarter({
      connect: () => connectTemporalClient({ address, namespace: 'default' }),
      taskQueue: 'wallet-receipts',
      onStarted: () => undefined,
      log: { warn: () => undefined, info: () => undefined, debug: () => undefined },
      waitMs: 5_000,
      openMs: 200,
    });
    const app = await ctx.build({ receipts, config: { ...testConfig, temporalAddress: address } });
    const [a, b] = [await ctx.user('sa', '10.00'), await ctx.user('sa')];
    const transfer = async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/wallet/transfer/',
        headers: { authorization: a.auth },
        payload: { receiver_id: b.id, amount: '1.00' },
      });
      expect(res.statusCode).toBe(201);
      return res.json().transaction_id as number;
    };
    const first = await transfer();
    const ready = (await app.inject('/ready')).json();
    expect(ready).toMatchObject({ status: 'degraded', receipt_starts: { state: 'not_starting' } });
    expect(ready.receipt_starts.reason).toMatch(/lacks the receipt search attributes/);

    const worker = spawnWorker({
      DATABASE_URL: ctx.db.url,
      TEMPORAL_ADDRESS: address,
      RECEIPT_PAGES: '1',
      RECEIPT_SWEEP_MS: '500',
    });
    try {
      await worker.ready;
      expect(worker.output()).toContain(
        'created search attributes TransactionId, SenderId, ReceiverId, TransactionIds in namespace default',
      );
      const [row] = await waitForReceipts(ctx.db.admin, [first]);
      expect(row?.pdf?.subarray(0, 5).toString()).toBe('%PDF-');
      // The API's next start (a probe once the pause is over) succeeds, and /ready says so.
      const second = await waitFor('an API start to succeed again', async () => {
        const id = await transfer();
        return receipts.startState().state === 'starting' ? id : undefined;
      });
      expect((await app.inject('/ready')).json()).toMatchObject({
        status: 'ready',
        receipt_starts: { state: 'starting', reason: null },
      });
      await waitForReceipts(ctx.db.admin, [second]);
    } finally {
      worker.child.kill('SIGTERM');
      expect((await worker.exited).code, worker.output()).toBe(0);
    }
  }, 180_000);

  it('the API creates them too, and its first workflow carries TransactionId', async () => {
    const address = apiServer.address;
    const app = await buildApp({
      pool: ctx.pool,
      config: { ...testConfig, temporalAddress: address },
      logger: false,
    });
    try {
      await waitFor(
        'the API to reach Temporal',
        async () => (await app.inject('/ready')).json().temporal === 'up',
      );
      const [a, b] = [await ctx.user('sa_api', '5.00'), await ctx.user('sa_api')];
      const res = await app.inject({
        method: 'POST',
        url: '/api/wallet/transfer/',
        headers: { authorization: a.auth },
        payload: { receiver_id: b.id, amount: '2.00' },
      });
      const id = res.json().transaction_id as number;
      const client = await connectTemporalClient({ address, namespace: 'default' });
      try {
        const described = await waitFor('the receipt workflow', () =>
          client.workflow.getHandle(`receipt-${id}`).describe(),
        );
        expect(described.typedSearchAttributes.get(TransactionIdKey)).toBe(id);
      } finally {
        await client.connection.close();
      }
    } finally {
      await app.close();
    }
  });

  it('a worker pointed at a namespace that does not exist exits with what to do', async () => {
    const worker = spawnWorker({
      DATABASE_URL: ctx.db.url,
      TEMPORAL_ADDRESS: raceServer.address,
      TEMPORAL_NAMESPACE: 'no_such_namespace',
    });
    const { code } = await worker.exited;
    expect(code).toBe(1);
    expect(worker.output()).toMatch(
      /worker cannot start: Temporal namespace "no_such_namespace" does not exist/,
    );
    expect(worker.output()).toContain('temporal operator namespace create --namespace no_such_namespace');
  });
});
