// What a user may see of the ledger: their own transactions and receipts. Someone else's is a plain 404, the
// same as one that does not exist, so ids leak nothing.
import { Decimal } from 'decimal.js';
import type { FastifyInstance } from 'fastify';
import { ledger, type TransactionView } from '../../db/ledger.js';
import { type AppContext, caller } from '../context.js';
import { notFound, withRetry } from '../errors.js';
import {
  BASIC_AUTH,
  commonErrors,
  errorResponse,
  historyQuery,
  historyResponse,
  retryAfter,
  transaction,
  transactionParams,
} from '../schemas.js';

const view = (t: TransactionView) => ({
  ...t,
  created_at: t.created_at.toISOString(),
  refunded_total: t.refunded_total === null ? null : new Decimal(t.refunded_total).toFixed(2),
});

const badRequest = { 400: errorResponse('A bad query parameter or id (validation_error)') };
const missing = { 404: errorResponse('No such transaction, or not yours (not_found)') };

export async function transactionRoutes(app: FastifyInstance, ctx: AppContext) {
  app.get<{ Querystring: { limit: number; before?: number } }>(
    '/api/wallet/transactions/',
    {
      schema: {
        summary: 'The caller’s transactions, newest first, sent and received (keyset-paginated)',
        tags: ['transactions'],
        security: BASIC_AUTH,
        querystring: historyQuery,
        response: { 200: historyResponse, ...badRequest, ...commonErrors },
      },
    },
    async (request) => {
      const { limit, before } = request.query;
      // One more than asked for tells whether another page exists.
      const rows = await withRetry(() =>
        ledger.history(ctx.pool, caller(request).id, limit + 1, before ?? null),
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { transactions: page.map(view), next_before: rows.length > limit && last ? last.id : null };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/wallet/transactions/:id/',
    {
      schema: {
        summary: 'One transaction the caller is party to',
        tags: ['transactions'],
        security: BASIC_AUTH,
        params: transactionParams,
        response: {
          200: { description: 'The transaction', ...transaction },
          ...badRequest,
          ...missing,
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const row = await withRetry(() =>
        ledger.transactionFor(ctx.pool, caller(request).id, request.params.id),
      );
      if (!row) throw notFound();
      return view(row);
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/wallet/transactions/:id/receipt',
    {
      schema: {
        summary: 'The PDF receipt of a transaction the caller is party to',
        tags: ['transactions'],
        security: BASIC_AUTH,
        params: transactionParams,
        response: {
          200: {
            description: 'The rendered receipt',
            content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } },
          },
          202: {
            description: 'Not rendered yet; retry after a moment',
            headers: retryAfter,
            type: 'object',
            required: ['status'],
            properties: { status: { type: 'string', enum: ['pending'] } },
          },
          ...badRequest,
          ...missing,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const row = await withRetry(() => ledger.receiptFor(ctx.pool, caller(request).id, id));
      if (!row) throw notFound();
      if (row.status !== 'rendered' || !row.pdf)
        return reply.code(202).header('Retry-After', '2').send({ status: 'pending' });
      return reply
        .code(200)
        .type('application/pdf')
        .header('Content-Disposition', `attachment; filename="receipt-${id}.pdf"`)
        .header('ETag', `"${row.pdf_sha256}"`)
        .send(row.pdf);
    },
  );
}
