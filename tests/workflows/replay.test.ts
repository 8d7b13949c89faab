// Replays histories recorded from a real run (tests/workflows/fixtures/*.json) through the current workflow
// code: a change that would break receipts already in flight fails here. v1-*.json are the first version's
// histories (load, then an activity that renders and stores), v2-*.json the one-task version's as it was
// chosen by a patch marker: both still replay (workflows/receipt.ts), so receipts started before a deploy
// finish after it. The current histories choose their shape by the input, with no marker. To re-record
// the current version's histories on purpose:
//   RECORD_RECEIPT_HISTORIES=1 npx vitest run tests/workflows
// batch-*.json are receiptBatchWorkflow's (a batch printed whole; one with an item that fell out to its own
// workflow), re-recorded on purpose with RECORD_BATCH_HISTORIES=1. statement-rendered.json is
// statementWorkflow's (one statement printed) and monthly-rendered.json monthlyStatementsWorkflow's (the
// Schedule's run over two wallets, each statement a child workflow), re-recorded with
// RECORD_STATEMENT_HISTORIES=1.
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../src/receipts/receipt-worker.js';
import { quietTemporalRuntime } from '../helpers/receipt-worker.js';
import { fixtures } from './histories.js';
import { recordBatchHistories } from './record-batch-histories.js';
import { recordHistories } from './record-histories.js';
import { recordStatementHistories } from './record-statement-histories.js';

const NONDETERMINISTIC = fileURLToPath(new URL('./nondeterministic/index.ts', import.meta.url));

async function replay(workflowsPath: string) {
  const results = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath }, await fixtures()))
    results.push(result);
  return results;
}

/** The events of one fixture that carry the given attributes. */
async function eventsWith(workflowId: string, key: string): Promise<Record<string, unknown>[]> {
  const fixture = (await fixtures()).find((f) => f.workflowId === workflowId);
  if (!fixture) throw new Error(`no ${workflowId} fixture`);
  const events = (fixture.history as { events: Record<string, unknown>[] }).events;
  return events
    .filter((e) => e[key] !== undefined && e[key] !== null)
    .map((e) => e[key] as Record<string, unknown>);
}

describe('workflow replay', () => {
  beforeAll(async () => {
    quietTemporalRuntime();
    if (process.env.RECORD_RECEIPT_HISTORIES === '1') console.log('recorded', await recordHistories());
    if (process.env.RECORD_BATCH_HISTORIES === '1') console.log('recorded', await recordBatchHistories());
    if (process.env.RECORD_STATEMENT_HISTORIES === '1')
      console.log('recorded', await recordStatementHistories());
  }, 240_000);

  it('has recorded histories of a transfer, a deposit, a missing transaction and batches, of every version, and of statements', async () => {
    const names = ['deposit-rendered', 'missing-transaction', 'transfer-rendered'];
    expect((await fixtures()).map((f) => f.workflowId)).toEqual([
      'batch-fell-out',
      'batch-rendered',
      'deposit-rendered',
      'missing-transaction',
      'monthly-rendered',
      'statement-rendered',
      'transfer-rendered',
      ...names.map((n) => `v1-${n}`),
      ...names.map((n) => `v2-${n}`),
    ]);
  });

  it('shows the current version completing a receipt in one workflow task, with no activity', async () => {
    const transfer = (await fixtures()).find((f) => f.workflowId === 'transfer-rendered');
    if (!transfer) throw new Error('no transfer-rendered fixture');
    const events = (transfer.history as { events: Record<string, unknown>[] }).events;
    const present = (key: string) => events.filter((e) => e[key] !== undefined && e[key] !== null);
    expect(present('workflowTaskCompletedEventAttributes')).toHaveLength(1);
    expect(present('activityTaskScheduledEventAttributes')).toHaveLength(0);
    expect(present('workflowExecutionCompletedEventAttributes')).toHaveLength(1);
    // No patch marker and no TemporalChangeVersion upsert: the server keeps no extra visibility record.
    expect(
      present('markerRecordedEventAttributes').map((e) => e.markerRecordedEventAttributes),
    ).not.toContainEqual(expect.objectContaining({ markerName: 'core_patch' }));
    expect(present('upsertWorkflowSearchAttributesEventAttributes')).toHaveLength(0);
  });

  it('shows a statement printed by one activity, and the monthly run fanning out to child statements', async () => {
    const scheduled = (id: string) =>
      eventsWith(id, 'activityTaskScheduledEventAttributes').then((a) =>
        a.map((e) => (e.activityType as { name: string }).name),
      );
    expect(await scheduled('statement-rendered')).toEqual(['printStatement']);
    expect(await eventsWith('statement-rendered', 'workflowExecutionCompletedEventAttributes')).toHaveLength(
      1,
    );
    // One page of wallets (fewer than a page: no continue-as-new), then one child statement per wallet.
    expect(await scheduled('monthly-rendered')).toEqual(['statementWallets']);
    const children = await eventsWith(
      'monthly-rendered',
      'startChildWorkflowExecutionInitiatedEventAttributes',
    );
    expect(children.map((c) => (c.workflowType as { name: string }).name)).toEqual([
      'statementWorkflow',
      'statementWorkflow',
    ]);
    expect(children.map((c) => c.workflowId)).toEqual([
      expect.stringMatching(/^statement-\d+-/),
      expect.stringMatching(/^statement-\d+-/),
    ]);
    expect(
      await eventsWith('monthly-rendered', 'childWorkflowExecutionCompletedEventAttributes'),
    ).toHaveLength(2);
    expect(await eventsWith('monthly-rendered', 'workflowExecutionCompletedEventAttributes')).toHaveLength(1);
  });

  it('replays every recorded history without a determinism error', async () => {
    const results = await replay(WORKFLOWS_PATH);
    expect(results).toHaveLength(13);
    for (const result of results) expect(result.error, result.workflowId).toBeUndefined();
  }, 120_000);

  it('would catch an incompatible change to the workflow', async () => {
    const results = await replay(NONDETERMINISTIC);
    expect(results.map((r) => r.error?.name)).toEqual(Array(13).fill('DeterminismViolationError'));
  }, 120_000);
});
