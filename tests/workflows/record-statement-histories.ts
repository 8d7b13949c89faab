// Records the statement workflows' replay fixtures from a real run (dev server, worker, Chromium, database):
// one statement printed (statement-rendered: statementWorkflow) and the monthly run over two wallets with
// last month's entries (monthly-rendered: monthlyStatementsWorkflow, started with the Schedule's own input,
// fanning out to two child statementWorkflows). Used by replay.test.ts when RECORD_STATEMENT_HISTORIES=1;
// the JSON files are committed and replayed on every later run. Re-record only on purpose.
import type { monthlyStatementsWorkflow } from '../../src/workflows/monthly-statements.js';
import type { statementWorkflow } from '../../src/workflows/statement.js';
import {
  canonicalIso,
  type MonthlyStatementsResult,
  previousMonth,
  statementWorkflowId,
} from '../../src/workflows/statement-types.js';
import { fundedUser } from '../helpers/database.js';
import { exportHistories, withRecordingStack } from './recording-stack.js';

const TASK_QUEUE = 'wallet-receipts';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function recordStatementHistories(): Promise<string[]> {
  return withRecordingStack(async ({ db, temporal, client }) => {
    const transfer = async (from: number, to: number, amount: string) =>
      db.admin.query('SELECT * FROM wallet.transfer($1, $2, $3)', [from, to, amount]);
    // One statement of a closed period holding a transfer each way.
    const alice = await fundedUser(db.admin, 'alice', '100.00');
    const bob = await fundedUser(db.admin, 'bob');
    await sleep(5);
    const from = canonicalIso(new Date());
    await transfer(alice, bob, '25.00');
    await transfer(bob, alice, '4.50');
    await sleep(5);
    const to = canonicalIso(new Date());
    const statementId = statementWorkflowId(alice, from, to);
    await client.workflow.execute<typeof statementWorkflow>('statementWorkflow', {
      workflowId: statementId,
      taskQueue: TASK_QUEUE,
      args: [{ userId: alice, from, to }],
    });

    // The monthly run: two wallets whose entries are moved back, as a superuser past the append-only guard
    // (deposits two months, transfers one, keeping each wallet's order), so last month has their history;
    // alice's and bob's stay in this month and are not part of it.
    const carol = await fundedUser(db.admin, 'carol', '40.00');
    const dave = await fundedUser(db.admin, 'dave', '5.00');
    await transfer(carol, dave, '12.50');
    await transfer(dave, carol, '3.00');
    const admin = await db.client();
    await admin.query("SET session_replication_role = 'replica'");
    await admin.query(
      `UPDATE wallet.entries SET created_at = created_at - CASE WHEN kind = 'deposit' THEN interval '2 months'
                                                               ELSE interval '1 month' END
        WHERE user_id = ANY ($1)`,
      [[carol, dave]],
    );
    await admin.end();
    const month = previousMonth(new Date()).from.slice(0, 7);
    const monthly: MonthlyStatementsResult = await client.workflow.execute<typeof monthlyStatementsWorkflow>(
      'monthlyStatementsWorkflow',
      {
        workflowId: `monthly-statements-${month}`,
        taskQueue: TASK_QUEUE,
        args: [{}], // what the Schedule passes: the period comes from the start time
      },
    );
    if (monthly.started !== 2 || monthly.failed !== 0) {
      throw new Error(`the monthly run should print two statements: ${JSON.stringify(monthly)}`);
    }

    return exportHistories(temporal, [
      ['statement-rendered', statementId],
      ['monthly-rendered', `monthly-statements-${month}`],
    ]);
  });
}
