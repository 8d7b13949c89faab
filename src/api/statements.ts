// Starting statement workflows from the API. Unlike a receipt, nothing was committed that a sweep would pick
// up later: a start that fails is the request's failure (503, retry shortly). The workflow id is the business
// id, so a second request while one renders joins it, and one that completed is never run again.
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { type StatementWorkflowInput, statementWorkflowId } from '../workflows/statement-types.js';

export interface StatementStarter {
  /** Starts (or joins) the statement's workflow; rejects when Temporal cannot be reached in time. */
  start(input: StatementWorkflowInput): Promise<void>;
  close(): Promise<void>;
}

export function createTemporalStatementStarter(opts: {
  connect: () => Promise<Client>;
  taskQueue: string;
  deadlineMs?: number;
}): StatementStarter {
  const deadlineMs = opts.deadlineMs ?? 3000;
  let client: Promise<Client> | undefined;
  let closed = false;
  const getClient = () => {
    client ??= opts.connect().catch((error) => {
      client = undefined;
      throw error;
    });
    return client;
  };
  return {
    async start(input) {
      if (closed) throw new Error('the statement starter is closed');
      const c = await getClient();
      try {
        await c.connection.withDeadline(Date.now() + deadlineMs, () =>
          c.workflow.start('statementWorkflow', {
            taskQueue: opts.taskQueue,
            workflowId: statementWorkflowId(input.userId, input.from, input.to),
            args: [input],
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          }),
        );
      } catch (error) {
        // Completed already: the PDF is stored, the next request serves it.
        if (error instanceof WorkflowExecutionAlreadyStartedError) return;
        throw error;
      }
    },
    async close() {
      closed = true;
      const pending = client;
      client = undefined;
      const c = await pending?.catch(() => undefined);
      await c?.connection.close().catch(() => undefined);
    },
  };
}
