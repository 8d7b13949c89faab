// Refunds: the receiver of a transfer or capture gives all or part of it back to its sender, as many times as
// they like while the refunds stay within the original (wallet.refund checks all of it under the two
// wallets' locks). The refund is a transaction of its own, with its receipt started after the commit.
import type { FastifyInstance } from 'fastify';
import { ledger } from '../../db/ledger.js';
import { refundBody, refundResponse } from '../books-schemas.js';
import { type AppContext, caller, receiptUrl } from '../context.js';
import { withRetry } from '../errors.js';
import {
  BASIC_AUTH,
  commonErrors,
  errorResponse,
  idempotencyHeaders,
  keyed,
  transactionParams,
} from '../schemas.js';
import { parseAmount } from '../validation.js';

export async function refundRoutes(app: FastifyInstance, ctx: AppContext) {
  app.post<{
    Params: { id: number };
    Body: { amount?: string } | null;
    Headers: { 'idempotency-key'?: string };
  }>(
    '/api/wallet/transactions/:id/refund/',
    {
      config: { operation: 'refund' },
      schema: {
        summary: 'As its receiver, give all (empty body) or part of a transaction back to its sender',
        tags: ['transactions'],
        security: BASIC_AUTH,
        params: transactionParams,
        headers: idempotencyHeaders,
        body: refundBody,
        response: {
          201: refundResponse,
          ...keyed,
          ...commonErrors,
          403: errorResponse('Only the receiver of a transaction may refund it (not_original_receiver)'),
          404: errorResponse('No such transaction, or not yours (not_found)'),
          422: errorResponse(
            'not_refundable (a deposit or a refund), refund_exceeds_original, insufficient_funds, ' +
              'idempotency_key_reused or balance_limit_exceeded',
          ),
        },
      },
    },
    async (request, reply) => {
      const user = caller(request);
      const original = request.params.id;
      const asked = request.body?.amount;
      const amount = asked === undefined ? null : parseAmount(asked);
      const key = request.headers['idempotency-key'];
      const row = await withRetry(() => ledger.refund(ctx.pool, user.id, original, amount, key));
      if (row.replayed) reply.header('Idempotent-Replayed', 'true');
      else {
        // The money goes back to the original's sender: the refund's counterparty, as the caller sees it.
        const refund = await withRetry(() => ledger.transactionFor(ctx.pool, user.id, row.transaction_id));
        await ctx.receipts.start({
          transactionId: row.transaction_id,
          kind: 'refund',
          senderId: user.id,
          receiverId: refund?.counterparty_id ?? user.id,
          amount: row.amount,
        });
      }
      return reply.code(201).send({
        message: 'Refund successful',
        transaction_id: row.transaction_id,
        refund_of: row.refund_of,
        amount: row.amount,
        balance: row.sender_balance,
        refunded_total: row.refunded_total,
        refundable_remaining: row.refundable_remaining,
        receipt: { status: 'pending', url: receiptUrl(row.transaction_id) },
      });
    },
  );
}
