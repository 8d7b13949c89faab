// The statement activities, served by the receipt worker beside the receipt ones.
// - printStatement: waits until the period is closed (wallet.close_statement_period), loads the summary and
//   every entry (a page of ENTRY_PAGE at a time), prints them with the receipts' renderer (renderHtml: same
//   Chromium, same protections) and stores the PDF, first one wins. A statement already stored is not
//   printed again. The PDF never travels through Temporal: the result holds its size and SHA-256.
// - statementWallets: the monthly fan-out's page of wallets that had entries in a period and have no stored
//   statement for it.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import type { ReceiptRenderer } from '../activities/renderer.js';
import { ledger } from '../db/ledger.js';
import { SqlState, sqlStateOf } from '../db/sqlstate.js';
import type { StatementWorkflowInput, StoredStatement } from '../workflows/statement-types.js';
import type { StatementEntry } from './statement-document.js';
import { statementHtml } from './statement-template.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** Entries read per statement call: the API's page size too. */
export const ENTRY_PAGE = 1000;
export const WALLET_NOT_FOUND = 'WalletNotFound';

/** A print's bound: the receipts' 30 s, plus a second per 100 entries (5,000 entries printed in about 25 s
 *  on a loaded 2-core machine), within the activity's 10 minutes. */
export const printTimeoutMs = (entries: number) => Math.min(30_000 + entries * 10, 9 * 60_000);

export const entryView = (row: Awaited<ReturnType<typeof ledger.statement>>[number]): StatementEntry => ({
  ...row,
  created_at: row.created_at.toISOString(),
});

export function createStatementActivities({
  pool,
  renderer,
}: {
  pool: Queryable;
  renderer: Pick<ReceiptRenderer, 'renderHtml'>;
}) {
  async function loadEntries(userId: number, from: Date, to: Date): Promise<StatementEntry[]> {
    const entries: StatementEntry[] = [];
    for (let after: number | null = null; ; ) {
      const page = await ledger.statement(pool, userId, from, to, after, ENTRY_PAGE);
      entries.push(...page.map(entryView));
      const last = page[page.length - 1];
      if (page.length < ENTRY_PAGE || !last) return entries;
      after = last.entry;
    }
  }

  return {
    async printStatement(input: StatementWorkflowInput): Promise<StoredStatement> {
      const { userId } = input;
      const from = new Date(input.from);
      const to = new Date(input.to);
      const period = await ledger.closeStatementPeriod(pool, userId, from, to).catch((error: unknown) => {
        if (sqlStateOf(error) !== SqlState.userNotFound) throw error;
        throw ApplicationFailure.create({
          message: `wallet ${userId} not found: no statement can be made for it`,
          type: WALLET_NOT_FOUND,
          nonRetryable: true,
        });
      });
      // Clocks of the API and the database may differ a little: retried (with backoff) until it is closed.
      if (!period.closed) throw new Error(`the period of wallet ${userId} ends ${input.to}: not closed yet`);
      if (period.stored_size !== null && period.stored_sha256 !== null) {
        return { ...input, pdfSize: period.stored_size, pdfSha256: period.stored_sha256, storedNow: false };
      }
      const summary = await ledger.statementSummary(pool, userId, from, to);
      const entries = await loadEntries(userId, from, to);
      const html = statementHtml({ ...input, username: period.username, summary, entries });
      const pdf = await renderer.renderHtml(html, {
        signal: Context.current().cancellationSignal,
        timeoutMs: printTimeoutMs(entries.length),
      });
      const closing = { entry: summary.closing_entry, hash: summary.closing_hash };
      const runId = Context.current().info.workflowExecution?.runId ?? null;
      const stored = await ledger.storeStatementPdf(pool, userId, from, to, pdf, closing, runId);
      return {
        ...input,
        pdfSize: stored.pdf_size,
        pdfSha256: stored.pdf_sha256,
        storedNow: stored.stored_now,
      };
    },

    async statementWallets(input: { from: string; to: string; afterUserId: number; limit: number }) {
      return ledger.statementWallets(
        pool,
        new Date(input.from),
        new Date(input.to),
        input.afterUserId,
        input.limit,
      );
    },
  };
}

export type StatementActivities = ReturnType<typeof createStatementActivities>;
