// monthlyStatementsWorkflow: what the monthly Schedule starts. It renders last month's statement of every
// wallet that had entries in it, in batches: a page of wallets at a time (an activity reads them), each
// page's statements as child workflows (statementWorkflow, same ids as the API's, so a statement someone
// already asked for is not printed again), STATEMENTS_AT_ONCE at a time. After PAGES_PER_RUN pages it
// continues as new, so its history stays small however many wallets there are. Deterministic code only.
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  ChildWorkflowFailure,
  continueAsNew,
  executeChild,
  log,
  ParentClosePolicy,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { StatementActivities } from '../statements/activities.js';
import { statementWorkflow } from './statement.js';
import {
  type MonthlyStatementsInput,
  type MonthlyStatementsResult,
  previousMonth,
  statementWorkflowId,
} from './statement-types.js';

export const WALLETS_PER_PAGE = 100;
export const STATEMENTS_AT_ONCE = 10;
export const PAGES_PER_RUN = 10;

const { statementWallets } = proxyActivities<StatementActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

async function renderOne(
  userId: number,
  period: { from: string; to: string },
): Promise<'started' | 'elsewhere' | 'failed'> {
  try {
    await executeChild(statementWorkflow, {
      workflowId: statementWorkflowId(userId, period.from, period.to),
      args: [{ userId, ...period }],
      // The statement is worth finishing even if this run is terminated.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // A statement stored by an earlier execution is never printed again; a failed one may be retried.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    });
    return 'started';
  } catch (error) {
    // Already running (asked for through the API a moment ago) or done: it renders or rendered on its own.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'elsewhere';
    // One wallet's statement that gave up must not stop the others': counted, and its own workflow shows why.
    if (error instanceof ChildWorkflowFailure) {
      log.warn('a statement failed', { userId, error: error.message });
      return 'failed';
    }
    throw error;
  }
}

export async function monthlyStatementsWorkflow(
  input: MonthlyStatementsInput = {},
): Promise<MonthlyStatementsResult> {
  const period = input.period ?? previousMonth(workflowInfo().startTime);
  let after = input.afterUserId ?? 0;
  let started = input.started ?? 0;
  let failed = input.failed ?? 0;
  for (let page = 0; page < PAGES_PER_RUN; page++) {
    const wallets = await statementWallets({ ...period, afterUserId: after, limit: WALLETS_PER_PAGE });
    for (let i = 0; i < wallets.length; i += STATEMENTS_AT_ONCE) {
      const batch = wallets.slice(i, i + STATEMENTS_AT_ONCE);
      const outcomes = await Promise.all(batch.map((userId) => renderOne(userId, period)));
      started += outcomes.filter((o) => o !== 'elsewhere').length;
      failed += outcomes.filter((o) => o === 'failed').length;
    }
    const last = wallets[wallets.length - 1];
    if (wallets.length < WALLETS_PER_PAGE || last === undefined) return { ...period, started, failed };
    after = last;
  }
  return await continueAsNew<typeof monthlyStatementsWorkflow>({
    period,
    afterUserId: after,
    started,
    failed,
  });
}
