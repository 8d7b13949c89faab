// `npm run cli -- statements monthly [--month YYYY-MM]`: the operator's way to run the monthly statements now.
// Without --month it triggers the Schedule (creating it if the worker has not yet), which renders last
// month's statements; with --month it starts the same workflow for that month (workflow id
// monthly-statements-YYYY-MM). Either way a wallet whose statement is stored already is not printed again.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Config } from '../config.js';
import { connectTemporalClient } from '../temporal/client.js';
import type { monthlyStatementsWorkflow } from '../workflows/monthly-statements.js';
import { canonicalIso } from '../workflows/statement-types.js';
import { MONTHLY_SCHEDULE_ID, triggerMonthlyStatements } from './schedule.js';

export const STATEMENTS_USAGE = 'npm run cli -- statements monthly [--month YYYY-MM]';

/** The month YYYY-MM as a period [first day, first day of the next), in UTC. */
export function monthPeriod(month: string): { from: string; to: string } | undefined {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) return undefined;
  const [year, index] = [Number(match[1]), Number(match[2]) - 1];
  return {
    from: canonicalIso(new Date(Date.UTC(year, index, 1))),
    to: canonicalIso(new Date(Date.UTC(year, index + 1, 1))),
  };
}

/** Returns the line to print; throws Error with a message for the user. */
export async function runStatementsCommand(
  args: string[],
  config: Pick<Config, 'temporalAddress' | 'temporalNamespace' | 'receiptTaskQueue'>,
): Promise<string> {
  const [verb, flag, month, ...rest] = args;
  const period = month === undefined ? undefined : monthPeriod(month);
  if (verb !== 'monthly' || rest.length > 0 || (flag !== undefined && (flag !== '--month' || !period))) {
    throw new Error(`usage: ${STATEMENTS_USAGE}`);
  }
  const client = await connectTemporalClient({
    address: config.temporalAddress,
    namespace: config.temporalNamespace,
  });
  try {
    if (!period) {
      await triggerMonthlyStatements(client, config.receiptTaskQueue);
      return `triggered the Schedule ${MONTHLY_SCHEDULE_ID}: last month's statements are being rendered`;
    }
    const workflowId = `monthly-statements-${month}`;
    try {
      await client.workflow.start<typeof monthlyStatementsWorkflow>('monthlyStatementsWorkflow', {
        workflowId,
        taskQueue: config.receiptTaskQueue,
        args: [{ period }],
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      return `${workflowId} is already running`;
    }
    return `started ${workflowId}: the statements of ${period.from} to ${period.to} are being rendered`;
  } finally {
    await client.connection.close();
  }
}
