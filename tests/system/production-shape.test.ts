// The production shape, run here: the real Temporal server on a PostgreSQL of its own with the SQL visibility
// store (docker-compose.yml's shape), instead of the dev server on SQLite. The bank workload and a worker
// SIGKILL mid-render keep the books and store every receipt exactly once, and the operators' documented
// searches work on SQL visibility (search attributes registered by the worker on a fresh cluster).
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalServerBuildable } from '../../src/temporal/postgres-server.js';
import { receiptWorkflowId } from '../../src/temporal/start-receipt.js';
import { seededRandom } from '../helpers/random.js';
import { renderAttempts } from '../helpers/render-history.js';
import { checkRun, lastTransactionId } from './checker.js';
import { waitForRenderInFlight } from './in-flight.js';
import { System, useSystem } from './system.js';
import { runWorkload } from './workload.js';

const USERS = 20;
const FUNDING = '1000.00';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Building the server needs Go: where there is none this file is skipped with a reason, but never in CI.
const buildable = temporalServerBuildable();
if (!buildable && process.env.CI !== 'true')
  console.warn(
    'production-shape: skipped, no Go to build the Temporal server (see scripts/ensure-temporal-server.sh)',
  );

describe.skipIf(!buildable && process.env.CI !== 'true')(
  'Temporal on PostgreSQL (the production shape)',
  () => {
    const run = useSystem(USERS, FUNDING, 'postgres');
    let temporal: Client;

    beforeAll(async () => {
      temporal = new Client({ connection: Connection.lazy({ address: run.system.temporalAddress }) });
    });
    afterAll(async () => {
      await temporal?.connection.close();
    });

    async function workload(label: string, seconds: number, fault?: () => Promise<void>) {
      const before = await lastTransactionId(run.system.db());
      const random = seededRandom(`production-shape-${label}`);
      let faulty = fault !== undefined;
      const result = runWorkload({
        apiUrl: () => run.system.apiUrl,
        users: run.users,
        random,
        clients: 16,
        readers: 4,
        thinkMs: 1000,
        seconds,
        label: `${label}-${random.seed}`,
        keepGoing: () => faulty,
      });
      await fault?.().finally(() => {
        faulty = false;
      });
      const done = await result;
      const checked = await checkRun(run.system.db(), run.system.temporalAddress, done, run, before);
      console.log(
        `production shape ${label}: seed=${random.seed} transfers=${done.transfers.length} ` +
          `committed=${checked.report.committed} problems=${checked.report.problems.length} ` +
          `receipt_drain_s=${checked.drain?.toFixed(1) ?? 'timeout'} receipt_problems=${checked.receiptProblems.length}`,
      );
      expect(checked.report.problems.slice(0, 10), run.system.tail()).toEqual([]);
      expect(checked.report.committed).toBeGreaterThan(0);
      expect(checked.drain, `receipts did not drain\n${run.system.tail()}`).toBeDefined();
      expect(checked.receiptProblems.slice(0, 10)).toEqual([]);
      return { before, committed: checked.report.committed };
    }

    it('keeps the books and stores every receipt once under the bank workload', async () => {
      expect(run.system.temporalBackend).toBe('postgres');
      await workload('bank', 15);
    });

    it('survives the worker SIGKILLed mid-render: the receipt in flight is stored once, by a later run', async () => {
      let killedDuring = 0;
      await workload('worker-sigkill', 10, async () => {
        killedDuring = await waitForRenderInFlight(run.system.db(), temporal);
        expect(await System.kill(run.system.worker)).toBe('SIGKILL');
        await sleep(3000);
        run.system.startWorker();
      });
      const { rows } = await run.system
        .db()
        .query(`SELECT status FROM wallet.receipts WHERE transaction_id = $1`, [killedDuring]);
      expect(rows[0]?.status).toBe('rendered');
      // The render the kill interrupted was tried again (by a later workflow task or activity attempt).
      const history = await temporal.workflow.getHandle(receiptWorkflowId(killedDuring)).fetchHistory();
      expect(
        renderAttempts(history),
        `receipt-${killedDuring} was not rendered again`,
      ).toBeGreaterThanOrEqual(2);
    });

    it("answers the operators' search by transaction, sender and receiver id on SQL visibility", async () => {
      const { rows } = await run.system.db().query<{ id: number; sender_id: number; receiver_id: number }>(
        `SELECT id::int, sender_id::int, receiver_id::int FROM wallet.transactions
        WHERE kind = 'transfer' ORDER BY id DESC LIMIT 1`,
      );
      const tx = rows[0];
      if (!tx) throw new Error('the workloads made no transfer');
      // Visibility is eventually consistent: a fresh completion may take a moment to be listed.
      const find = async (query: string) => {
        for (let i = 0; i < 100; i++) {
          const ids: string[] = [];
          for await (const w of temporal.workflow.list({ query })) ids.push(w.workflowId);
          if (ids.length > 0) return ids;
          await sleep(200);
        }
        return [];
      };
      expect(await find(`TransactionId = ${tx.id}`)).toEqual([receiptWorkflowId(tx.id)]);
      expect(await find(`SenderId = ${tx.sender_id} AND ReceiverId = ${tx.receiver_id}`)).toContain(
        receiptWorkflowId(tx.id),
      );
      expect(await find(`TransactionIds = '${tx.id}'`)).toEqual([receiptWorkflowId(tx.id)]);
      // A batch transfer from psql: its receipts share one workflow, found by any item's id.
      const [sender, a, b] = run.users;
      if (!sender || !a || !b) throw new Error('too few users');
      const batch = await run.system
        .db()
        .query<{ transaction_id: number }>(
          'SELECT transaction_id::int FROM wallet.transfer_batch($1, $2, $3)',
          [sender.id, [a.id, b.id, a.id], ['0.01', '0.02', '0.03']],
        );
      const items = batch.rows.map((r) => r.transaction_id);
      expect(await find(`TransactionIds = '${items[2]}'`)).toEqual([`receipt-batch-${items[0]}`]);
    });
  },
);
