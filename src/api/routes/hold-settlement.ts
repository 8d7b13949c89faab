// Settling a hold, as its receiver: capture (all or part; the rest goes back to the sender) or release.
import { Decimal } from 'decimal.js';
import type { FastifyInstance } from 'fastify';
import { type HoldView, ledger } from '../../db/ledger.js';
import { type AppContext, caller, receiptUrl } from '../context.js';
import { withRetry } from '../errors.js';
import {
  captureBody,
  captureResponse,
  holdErrors,
  holdParams,
  releaseBody,
  releaseResponse,
} from '../holds-schemas.js';
import { BASIC_AUTH, commonErrors, errorResponse, idempotencyHeaders, keyed } from '../schemas.js';
import { parseAmount } from '../validation.js';

const badRequest = { 400: errorResponse('A bad id or body (validation_error)') };
const tags = ['holds'];

export async function holdSettlementRoutes(app: FastifyInstance, ctx: AppContext) {
  app.post<{
    Params: { hold_id: number };
    Body: { amount?: string } | null;
    Headers: { 'idempotency-key'?: string };
  }>(
    '/api/wallet/holds/:hold_id/capture/',
    {
      config: { operation: 'capture' },
      schema: {
        summary: 'As the receiver, take all or part of a hold; the rest goes back to the sender',
        tags,
        security: BASIC_AUTH,
        params: holdParams,
        headers: idempotencyHeaders,
        body: captureBody,
        response: {
          201: captureResponse,
          ...keyed,
          ...commonErrors,
          ...holdErrors.notReceiver,
          ...holdErrors.notFound,
          422: errorResponse(
            'hold_closed (captured, released or expired), capture_exceeds_hold, idempotency_key_reused or balance_limit_exceeded',
          ),
        },
      },
    },
    async (request, reply) => {
      const user = caller(request);
      const holdId = request.params.hold_id;
      const asked = request.body?.amount;
      const amount = asked === undefined ? null : parseAmount(asked);
      const key = request.headers['idempotency-key'];
      const row = await withRetry(() => ledger.capture(ctx.pool, user.id, holdId, amount, key));
      // The hold's terms never change, so reading them after the capture cannot disagree with it.
      const held = (await withRetry(() => ledger.holdFor(ctx.pool, user.id, holdId))) as HoldView;
      const taken = held.captured_amount ?? '0.00';
      if (row.replayed) reply.header('Idempotent-Replayed', 'true');
      else {
        await ctx.receipts.start({
          transactionId: row.transaction_id,
          kind: 'capture',
          senderId: held.sender_id,
          receiverId: user.id,
          amount: taken,
        });
      }
      return reply.code(201).send({
        message: 'Capture successful',
        hold_id: holdId,
        status: 'captured',
        transaction_id: row.transaction_id,
        amount: taken,
        released_amount: new Decimal(held.amount).minus(taken).toFixed(2),
        receiver_balance: row.receiver_balance,
        receipt: { status: 'pending', url: receiptUrl(row.transaction_id) },
      });
    },
  );

  app.post<{ Params: { hold_id: number } }>(
    '/api/wallet/holds/:hold_id/release/',
    {
      config: { operation: 'release' },
      schema: {
        summary: 'As the receiver, give up a hold: the money is the sender’s to spend again',
        tags,
        security: BASIC_AUTH,
        params: holdParams,
        body: releaseBody,
        response: {
          200: releaseResponse,
          ...badRequest,
          ...commonErrors,
          ...holdErrors.notReceiver,
          ...holdErrors.notFound,
          422: errorResponse('hold_closed: already captured, released or expired'),
        },
      },
    },
    async (request) => withRetry(() => ledger.release(ctx.pool, caller(request).id, request.params.hold_id)),
  );
}
