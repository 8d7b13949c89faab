// Incompatible statement workflows, each a change someone could plausibly make:
// - statementWorkflow checks which wallets are due (statementWallets) before printing: a first activity
//   the recorded histories never scheduled.
// - monthlyStatementsWorkflow prints each wallet's statement itself with an activity instead of starting a
//   child statementWorkflow: the recorded child workflow starts no longer match its commands.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { StatementActivities } from '../../../src/statements/activities.js';
import {
  type MonthlyStatementsInput,
  type MonthlyStatementsResult,
  previousMonth,
  type StatementWorkflowInput,
  type StoredStatement,
} from '../../../src/workflows/statement-types.js';

const { printStatement, statementWallets } = proxyActivities<StatementActivities>({
  startToCloseTimeout: '1m',
});

export async function statementWorkflow(input: StatementWorkflowInput): Promise<StoredStatement> {
  await statementWallets({ from: input.from, to: input.to, afterUserId: 0, limit: 1 });
  return await printStatement(input);
}

export async function monthlyStatementsWorkflow(
  input: MonthlyStatementsInput = {},
): Promise<MonthlyStatementsResult> {
  const period = input.period ?? previousMonth(workflowInfo().startTime);
  const wallets = await statementWallets({ ...period, afterUserId: 0, limit: 100 });
  await Promise.all(wallets.map((userId) => printStatement({ userId, ...period })));
  return { ...period, started: wallets.length, failed: 0 };
}
