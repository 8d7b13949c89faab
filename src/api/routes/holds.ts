// Holds: the sender reserves money for a receiver; the receiver captures it (all or part) or releases it; at
// expiry it is the sender's to spend again. Each route is one call to a SQL function (db/procedures/holds*).
import type { FastifyInstance } from 'fastify';
import { type HoldView, ledger } from '../../db/ledger.js';
import { type AppContext, caller } from '../context.js';
import { holdNotFound, withRetry } from '../errors.js';
import {
  DEFAULT_HOLD_SECONDS,
  hold,
  holdBody,
  holdCreated,
  holdErrors,
  holdParams,
  holdsPage,
  holdsQuery,
} from '../holds-schemas.js';
import { BASIC_AUTH, commonErrors, errorResponse, idempotencyHeaders, keyed } from '../schemas.js';
import { parseAmount } from '../validation.js';
import { holdSettlementRoutes } from './hold-settlement.js';

const view = (h: HoldView) => ({
  ...h,
  created_at: h.created_at.toISOString(),
  expires_at: h.expires_at.toISOString(),
  closed_at: h.closed_at?.toISOString() ?? null,
});

const badRequest = { 400: errorResponse('A bad query parameter or id (validation_error)') };
const tags = ['holds'];

export async function holdRoutes(app: FastifyInstance, ctx: AppContext) {
  app.post<{
    Body: { receiver_id: number; amount: string; expires_in_seconds?: number };
    Headers: { 'idempotency-key'?: string };
  }>(
    '/api/wallet/holds/',
    {
      config: { operation: 'hold' },
      schema: {
        summary: 'Reserve money for a receiver, who may capture it until it expires',
        tags,
        security: BASIC_AUTH,
        headers: idempotencyHeaders,
        body: holdBody,
        response: {
          201: holdCreated,
          ...keyed,
          ...commonErrors,
          404: errorResponse('No such receiver (receiver_not_found)'),
          422: errorResponse('insufficient_funds, same_wallet or idempotency_key_reused'),
        },
      },
    },
    async (request, reply) => {
      const sender = caller(request);
      const { receiver_id: receiverId, expires_in_seconds: seconds = DEFAULT_HOLD_SECONDS } = request.body;
      const amount = parseAmount(request.body.amount);
      const key = request.headers['idempotency-key'];
      const row = await withRetry(() => ledger.hold(ctx.pool, sender.id, receiverId, amount, seconds, key));
      if (row.replayed) reply.header('Idempotent-Replayed', 'true');
      return reply.code(201).send({
        hold_id: row.hold_id,
        status: 'open', // as the first answer said, also on a replay
        amount,
        receiver_id: receiverId,
        expires_at: row.expires_at.toISOString(),
        available_balance: row.available_balance,
      });
    },
  );

  app.get<{ Querystring: { status?: string; limit: number; before?: number } }>(
    '/api/wallet/holds/',
    {
      schema: {
        summary: 'Holds the caller placed or may capture, newest first (keyset-paginated)',
        tags,
        security: BASIC_AUTH,
        querystring: holdsQuery,
        response: { 200: holdsPage, ...badRequest, ...commonErrors },
      },
    },
    async (request) => {
      const { status, limit, before } = request.query;
      // One more than asked for tells whether another page exists.
      const rows = await withRetry(() =>
        ledger.holdsFor(ctx.pool, caller(request).id, status ?? null, limit + 1, before ?? null),
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { holds: page.map(view), next_before: rows.length > limit && last ? last.hold_id : null };
    },
  );

  app.get<{ Params: { hold_id: number } }>(
    '/api/wallet/holds/:hold_id/',
    {
      schema: {
        summary: 'One hold the caller is party to',
        tags,
        security: BASIC_AUTH,
        params: holdParams,
        response: {
          200: { description: 'The hold', ...hold },
          ...badRequest,
          ...holdErrors.notFound,
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const row = await withRetry(() => ledger.holdFor(ctx.pool, caller(request).id, request.params.hold_id));
      if (!row) throw holdNotFound();
      return view(row);
    },
  );

  await holdSettlementRoutes(app, ctx);
}
