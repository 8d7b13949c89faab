// statementWorkflow: print and store one wallet's statement for one closed period. Its id is the business id
// statement-<user>-<from>-<to>, so the API asked twice, the monthly run and a retry all meet in one execution,
// and a completed one is never redone: a statement is rendered once. Deterministic code only.
import { proxyActivities } from '@temporalio/workflow';
import type { StatementActivities } from '../statements/activities.js';
import type { StatementWorkflowInput, StoredStatement } from './statement-types.js';

// A long month is many pages: minutes at most for the print. Transient failures (database or Chromium down,
// worker killed) are retried for as long as it takes; a wallet that does not exist gives up at once.
const { printStatement } = proxyActivities<StatementActivities>({
  startToCloseTimeout: '10m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: ['WalletNotFound'],
  },
});

export async function statementWorkflow(input: StatementWorkflowInput): Promise<StoredStatement> {
  return await printStatement(input);
}
