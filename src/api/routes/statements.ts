// Statements: the JSON of a period (summary and a keyset-paginated page of entries) and its PDF, rendered once
// by a Temporal workflow and stored. Only a closed period has a PDF: one that is not over yet is a 422.
import { Decimal } from 'decimal.js';
import type { FastifyInstance } from 'fastify';
import { ledger } from '../../db/ledger.js';
import { entryView } from '../../statements/activities.js';
import type { StatementSummary } from '../../statements/statement-document.js';
import { canonicalIso } from '../../workflows/statement-types.js';
import {
  MAX_STATEMENT_PAGE,
  statementPdfQuery,
  statementPdfResponses,
  statementQuery,
  statementResponse,
} from '../books-schemas.js';
import { type AppContext, caller } from '../context.js';
import { ApiError, withRetry } from '../errors.js';
import { monthStart, parsePeriod } from '../periods.js';
import { BASIC_AUTH, commonErrors, errorResponse } from '../schemas.js';

const tags = ['statements'];
const two = (value: string) => new Decimal(value).toFixed(2);

/** Money as two-decimal strings, whatever scale a sum came back with. */
const summaryView = (s: StatementSummary): StatementSummary => ({
  ...s,
  opening_balance: two(s.opening_balance),
  closing_balance: two(s.closing_balance),
  total_in: two(s.total_in),
  total_out: two(s.total_out),
});

export const statementPdfUrl = (from: string, to: string) =>
  `/api/wallet/statement.pdf?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

export async function statementRoutes(app: FastifyInstance, ctx: AppContext) {
  app.get<{ Querystring: { from?: string; to?: string; after?: number } }>(
    '/api/wallet/statement/',
    {
      schema: {
        summary:
          'The caller’s statement for [from, to): summary and entries, oldest first (keyset-paginated)',
        tags,
        security: BASIC_AUTH,
        querystring: statementQuery,
        response: {
          200: statementResponse,
          400: errorResponse('A malformed or reversed period, or a bad after (validation_error)'),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const user = caller(request);
      const now = new Date();
      const { from, to } = parsePeriod(request.query, { from: monthStart(now), to: now });
      const { after } = request.query;
      const limit = MAX_STATEMENT_PAGE;
      const [summary, rows] = await withRetry(() =>
        Promise.all([
          ledger.statementSummary(ctx.pool, user.id, from, to),
          // One more than asked for tells whether another page exists.
          ledger.statement(ctx.pool, user.id, from, to, after ?? null, limit + 1),
        ]),
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        user_id: user.id,
        from: from.toISOString(),
        to: to.toISOString(),
        summary: summaryView(summary),
        entries: page.map((row) => ({
          ...entryView(row),
          amount: two(row.amount),
          balance_after: two(row.balance_after),
        })),
        next_after: rows.length > limit && last ? last.entry : null,
      };
    },
  );

  app.get<{ Querystring: { from?: string; to?: string } }>(
    '/api/wallet/statement.pdf',
    {
      schema: {
        summary: 'The caller’s statement of a closed period as a PDF (rendered once, then stored)',
        tags,
        security: BASIC_AUTH,
        querystring: statementPdfQuery,
        response: { ...statementPdfResponses, ...commonErrors },
      },
    },
    async (request, reply) => {
      const user = caller(request);
      const now = new Date();
      const period = parsePeriod(request.query, { from: monthStart(now, 1), to: monthStart(now) });
      if (period.to > now) {
        throw new ApiError(
          422,
          'period_open',
          'A statement PDF covers a period that is over: to must not be in the future. ' +
            'GET /api/wallet/statement/ shows the period so far.',
        );
      }
      const stored = await withRetry(() => ledger.statementPdfFor(ctx.pool, user.id, period.from, period.to));
      const from = canonicalIso(period.from);
      const to = canonicalIso(period.to);
      if (stored) {
        return reply
          .code(200)
          .type('application/pdf')
          .header(
            'Content-Disposition',
            `attachment; filename="statement-${user.id}-${from.slice(0, 10)}.pdf"`,
          )
          .header('ETag', `"${stored.pdf_sha256}"`)
          .send(stored.pdf);
      }
      try {
        await ctx.statements.start({ userId: user.id, from, to });
      } catch (error) {
        request.log.warn({ err: error }, 'could not start the statement workflow');
        // Nothing was started, so nothing is lost: the client asks again (a stored PDF is served regardless).
        throw new ApiError(503, 'unavailable', 'Statements cannot be rendered right now; retry shortly', {
          'Retry-After': '2',
        });
      }
      return reply
        .code(202)
        .header('Retry-After', '2')
        .send({ status: 'rendering', url: statementPdfUrl(from, to) });
    },
  );
}
