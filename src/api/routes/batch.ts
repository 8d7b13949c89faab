// POST /api/wallet/transfer/batch/: many transfers from the caller in one commit, all or nothing. Any failure
// names the batch item that caused it ("item": n, 1-based), whether the schema, the amount check or the
// ledger found it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type BatchItemRow, ledger } from '../../db/ledger.js';
import { sqlStateOf } from '../../db/sqlstate.js';
import { type AppContext, caller, receiptUrl } from '../context.js';
import { type ApiError, toApiError, withRetry } from '../errors.js';
import {
  BASIC_AUTH,
  batchBody,
  batchErrorResponse,
  batchResponse,
  commonErrors,
  idempotencyHeaders,
  MAX_BATCH_ITEMS,
  retryAfter,
} from '../schemas.js';
import { fromValidation, parseAmount } from '../validation.js';

interface BatchRequest {
  Body: { transfers: { receiver_id: number; amount: string }[] };
  Headers: { 'idempotency-key'?: string };
}

// A batch of the maximum size with the largest ids and amounts, with room for whitespace: 128 KiB, as the
// README says (131 bytes an item).
const BATCH_BODY_LIMIT = 128 * 1024;
function batchItems(request: FastifyRequest): number {
  const transfers = (request.body as { transfers?: unknown } | null)?.transfers;
  return Array.isArray(transfers) && transfers.length > 0 ? transfers.length : 1;
}

const ITEM_IN_PATH = /^\/transfers\/(\d+)(\/|$)/;
const ITEM_IN_DETAIL = /^item (\d+):/;

/** The 400 of a failed schema check, naming the item when the problem is inside one. */
function validationError(request: FastifyRequest): ApiError {
  const failure = request.validationError as { validation: never[]; validationContext?: string };
  const error = fromValidation(failure.validation, failure.validationContext);
  const path = (failure.validation[0] as { instancePath?: string } | undefined)?.instancePath ?? '';
  const index = ITEM_IN_PATH.exec(path)?.[1];
  if (index !== undefined) error.item = Number(index) + 1;
  return error;
}

/** A ledger error that names an item becomes the contract's answer with that item; others pass unchanged. */
function withItem(error: unknown): unknown {
  const item = ITEM_IN_DETAIL.exec((error as { detail?: string } | null)?.detail ?? '')?.[1];
  if (item === undefined || !sqlStateOf(error)?.startsWith('W1')) return error;
  const { apiError } = toApiError(error);
  apiError.item = Number(item);
  return apiError;
}

export async function batchRoutes(app: FastifyInstance, ctx: AppContext) {
  app.post<BatchRequest>(
    '/api/wallet/transfer/batch/',
    {
      bodyLimit: BATCH_BODY_LIMIT,
      attachValidation: true,
      // Counted per item: a refused batch counts each of its items under the refusal's code.
      config: { operation: 'batch_item', operationCount: batchItems },
      schema: {
        summary: `Move money from the caller to up to ${MAX_BATCH_ITEMS} wallets in one commit, all or nothing`,
        tags: ['wallet'],
        security: BASIC_AUTH,
        headers: idempotencyHeaders,
        body: batchBody,
        response: {
          201: batchResponse,
          400: batchErrorResponse('Bad JSON, a missing or unknown field, a bad amount or Idempotency-Key'),
          404: batchErrorResponse('An item names no such receiver (receiver_not_found)'),
          409: batchErrorResponse('The same Idempotency-Key is being processed right now', retryAfter),
          413: batchErrorResponse(`The body is over ${BATCH_BODY_LIMIT / 1024} KiB (payload_too_large)`),
          415: batchErrorResponse('The body is not JSON (unsupported_media_type)'),
          422: batchErrorResponse(
            'insufficient_funds (at that item), same_wallet, idempotency_key_reused or balance_limit_exceeded',
          ),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const sender = caller(request);
      if (request.validationError) throw validationError(request);
      const items = request.body.transfers;
      const amounts = items.map((t, i) => {
        try {
          return parseAmount(t.amount);
        } catch (error) {
          (error as ApiError).item = i + 1;
          throw error;
        }
      });
      const receiverIds = items.map((t) => t.receiver_id);
      const key = request.headers['idempotency-key'];
      let rows: BatchItemRow[];
      try {
        rows = await withRetry(() => ledger.transferBatch(ctx.pool, sender.id, receiverIds, amounts, key));
      } catch (error) {
        throw withItem(error);
      }
      // The receipts are the dispatcher's to start: one workflow per 100 items (wallet.transfer_batch leaves
      // them unleased), so this process starts nothing and Temporal never slows the answer.
      if (rows[0]?.replayed) reply.header('Idempotent-Replayed', 'true');
      return reply.code(201).send({
        message: 'Batch transfer successful',
        sender_balance: rows.at(-1)?.sender_balance,
        transfers: rows.map((r) => ({
          transaction_id: r.transaction_id,
          receiver_id: r.receiver_id,
          amount: r.amount,
          receipt: { status: 'pending', url: receiptUrl(r.transaction_id) },
        })),
      });
    },
  );
}
