// The monthly statements Schedule: on the first day of each month at 01:00 UTC it starts
// monthlyStatementsWorkflow, which renders last month's statement of every wallet that had entries. The worker
// creates it at start (ensureMonthlySchedule: an existing one is left as it is, so an operator's pause or
// edit in the Temporal UI survives restarts); `npm run cli -- statements monthly` triggers it now.
import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Config } from '../config.js';
import { describeError } from '../receipts/log.js';
import { connectTemporalClient } from '../temporal/client.js';
import type { monthlyStatementsWorkflow } from '../workflows/monthly-statements.js';

export const MONTHLY_SCHEDULE_ID = 'monthly-statements';

/** Creates the Schedule unless it exists. */
export async function ensureMonthlySchedule(
  client: Client,
  taskQueue: string,
): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create<typeof monthlyStatementsWorkflow>({
      scheduleId: MONTHLY_SCHEDULE_ID,
      // 01:00, not midnight: a little slack for clocks; the statement itself waits out movements in flight.
      spec: { calendars: [{ dayOfMonth: 1, hour: 1, minute: 0, comment: 'last month, on the 1st' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'monthlyStatementsWorkflow',
        workflowId: 'monthly-statements',
        taskQueue,
        args: [{}],
      },
      policies: {
        // One run at a time; a worker down on the 1st still gets its run within a week.
        overlap: ScheduleOverlapPolicy.SKIP,
        catchupWindow: '7 days',
      },
      memo: { purpose: 'Renders last month’s statement PDF of every wallet that had entries' },
    });
    return 'created';
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return 'exists';
    throw error;
  }
}

/** Creates the Schedule if needed and runs it now (what the CLI does); resolves once the run is started. */
export async function triggerMonthlyStatements(client: Client, taskQueue: string): Promise<void> {
  await ensureMonthlySchedule(client, taskQueue);
  await client.schedule.getHandle(MONTHLY_SCHEDULE_ID).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
}

/** The worker's start: the Schedule is made if missing. A failure is logged, never fatal: receipts matter
 *  more, and the next start (or the CLI) creates it. */
export async function ensureMonthlyStatementsSchedule(
  config: Pick<Config, 'temporalAddress' | 'temporalNamespace' | 'receiptTaskQueue'>,
  log: { info(message: string): void; warn(message: string): void },
): Promise<void> {
  try {
    const client = await connectTemporalClient({
      address: config.temporalAddress,
      namespace: config.temporalNamespace,
    });
    try {
      const outcome = await ensureMonthlySchedule(client, config.receiptTaskQueue);
      log.info(`monthly statements Schedule ${MONTHLY_SCHEDULE_ID}: ${outcome}`);
    } finally {
      await client.connection.close();
    }
  } catch (error) {
    log.warn(
      `could not create the Schedule ${MONTHLY_SCHEDULE_ID} (retried at the next start): ${describeError(error)}`,
    );
  }
}
