// Money routes: transfer, deposit, balance. Each is one call to a SQL function; the API only checks shapes.
import type { FastifyInstance } from 'fastify';
import { ledger } from '../../db/ledger.js';
import { balanceQuery } from '../books-schemas.js';
import { type AppContext, caller, receiptUrl } from '../context.js';
import { ApiError, notFound, withRetry } from '../errors.js';
import { parsePast } from '../periods.js';
import {
  BASIC_AUTH,
  balanceResponse,
  commonErrors,
  depositBody,
  depositResponse,
  errorResponse,
  idempotencyHeaders,
  keyed,
  transferBody,
  transferResponse,
} from '../schemas.js';
import { parseAmount } from '../validation.js';

interface MoneyRequest<B> {
  Body: B;
  Headers: { 'idempotency-key'?: string };
}

export async function walletRoutes(app: FastifyInstance, ctx: AppContext) {
  app.post<MoneyRequest<{ receiver_id: number; amount: string }>>(
    '/api/wallet/transfer/',
    {
      config: { operation: 'transfer' },
      schema: {
        summary: 'Move money from the caller to another wallet',
        tags: ['wallet'],
        security: BASIC_AUTH,
        headers: idempotencyHeaders,
        body: transferBody,
        response: {
          201: transferResponse,
          ...keyed,
          ...commonErrors,
          404: errorResponse('No such receiver (receiver_not_found)'),
          422: errorResponse(
            'insufficient_funds, same_wallet, idempotency_key_reused or balance_limit_exceeded',
          ),
        },
      },
    },
    async (request, reply) => {
      const sender = caller(request);
      const { receiver_id: receiverId } = request.body;
      const amount = parseAmount(request.body.amount);
      const key = request.headers['idempotency-key'];
      const row = await withRetry(() => ledger.transfer(ctx.pool, sender.id, receiverId, amount, key));
      if (row.replayed) reply.header('Idempotent-Replayed', 'true');
      else {
        await ctx.receipts.start({
          transactionId: row.transaction_id,
          kind: 'transfer',
          senderId: sender.id,
          receiverId,
          amount,
        });
      }
      // A replay answers exactly as the first call did: the receipt was pending then.
      return reply.code(201).send({
        message: 'Transfer successful',
        transaction_id: row.transaction_id,
        sender_balance: row.sender_balance,
        amount,
        receiver_id: receiverId,
        receipt: { status: 'pending', url: receiptUrl(row.transaction_id) },
      });
    },
  );

  app.post<MoneyRequest<{ amount: string }>>(
    '/api/wallet/deposit/',
    {
      config: { operation: 'deposit' },
      schema: {
        summary: 'Add money to the caller’s wallet (a testing helper; can be turned off)',
        tags: ['wallet'],
        security: BASIC_AUTH,
        headers: idempotencyHeaders,
        body: depositBody,
        response: {
          201: depositResponse,
          ...keyed,
          ...commonErrors,
          403: errorResponse('Deposits are turned off on this server (deposits_disabled)'),
          422: errorResponse('idempotency_key_reused or balance_limit_exceeded'),
        },
      },
      // Before validation: with deposits off, no body is worth a closer look.
      preValidation: async () => {
        if (!ctx.depositsEnabled) throw new ApiError(403, 'deposits_disabled', 'Deposits are disabled');
      },
    },
    async (request, reply) => {
      const user = caller(request);
      const amount = parseAmount(request.body.amount);
      const key = request.headers['idempotency-key'];
      const row = await withRetry(() => ledger.deposit(ctx.pool, user.id, amount, key));
      if (row.replayed) reply.header('Idempotent-Replayed', 'true');
      else
        await ctx.receipts.start({
          transactionId: row.transaction_id,
          kind: 'deposit',
          senderId: null,
          receiverId: user.id,
          amount,
        });
      return reply.code(201).send({
        message: 'Deposit successful',
        transaction_id: row.transaction_id,
        balance: row.balance,
        amount,
      });
    },
  );

  app.get<{ Querystring: { at?: string } }>(
    '/api/wallet/balance/',
    {
      schema: {
        summary: 'The caller’s balance now, or at an instant in the past (?at=)',
        tags: ['wallet'],
        security: BASIC_AUTH,
        querystring: balanceQuery,
        response: {
          200: balanceResponse,
          400: errorResponse('A malformed or future at (validation_error)'),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const user = caller(request);
      if (request.query.at !== undefined) {
        const at = parsePast('at', request.query.at);
        const balance = await withRetry(() => ledger.balanceAt(ctx.pool, user.id, at));
        return { user_id: user.id, username: user.username, balance, at: at.toISOString() };
      }
      const row = await withRetry(() => ledger.balance(ctx.pool, user.id));
      if (!row) throw notFound();
      return row;
    },
  );
}
