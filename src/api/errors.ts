// The one error mapper: every failure becomes {"error", "code"} with the contract's status. Clients get a fixed
// sentence; the original error (SQL text, DETAIL with other users' data, stack) goes to the log only.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SqlState, sqlStateOf } from '../db/sqlstate.js';
import { ApiError } from './api-error.js';
import { EXPIRES_RULE } from './holds-schemas.js';
import { AMOUNT_RULE, KEY_RULE } from './schemas.js';
import { fromValidation } from './validation.js';

export { ApiError };

export const unauthorized = () =>
  new ApiError(401, 'unauthorized', 'Authentication required: send valid credentials');
export const notFound = () => new ApiError(404, 'not_found', 'Not found');
export const holdNotFound = () => new ApiError(404, 'hold_not_found', 'Hold not found');
const unavailable = () =>
  new ApiError(503, 'unavailable', 'The service is temporarily unavailable; retry shortly', {
    'Retry-After': '2',
  });

// A closed hold's error names the outcome that won; the SQL message carries it ('hold is already expired').
const holdClosed = (error: unknown) => {
  const outcome = /\b(captured|released|expired)\b/.exec((error as Error).message)?.[1] ?? 'closed';
  return new ApiError(422, 'hold_closed', `The hold is already ${outcome}`);
};

// The DETAIL names what is left ('... has 3.00 refunded and 7.00 left; ...'): the caller may know that much
// of their own transaction, nothing else of the DETAIL.
const refundExceeds = (error: unknown) => {
  const left = /and (\d+\.\d{2}) left/.exec((error as { detail?: string }).detail ?? '')?.[1];
  return new ApiError(
    422,
    'refund_exceeds_original',
    `The refund is more than what is left of the transaction${left ? ` (${left} left)` : ''}`,
  );
};

const BY_SQLSTATE: Record<string, (error: unknown) => ApiError> = {
  [SqlState.insufficientFunds]: () => new ApiError(422, 'insufficient_funds', 'Insufficient funds'),
  [SqlState.receiverNotFound]: () => new ApiError(404, 'receiver_not_found', 'Receiver not found'),
  [SqlState.sameWallet]: () => new ApiError(422, 'same_wallet', 'Cannot transfer to your own wallet'),
  [SqlState.invalidAmount]: () => new ApiError(400, 'validation_error', AMOUNT_RULE),
  [SqlState.idempotencyKeyReused]: () =>
    new ApiError(
      422,
      'idempotency_key_reused',
      'This Idempotency-Key was already used for a different request',
    ),
  [SqlState.idempotencyKeyInUse]: () =>
    new ApiError(
      409,
      'idempotency_key_in_use',
      'A request with this Idempotency-Key is still being processed; retry shortly',
      { 'Retry-After': '1' },
    ),
  [SqlState.invalidIdempotencyKey]: () => new ApiError(400, 'validation_error', KEY_RULE),
  [SqlState.balanceOverLimit]: () =>
    new ApiError(422, 'balance_limit_exceeded', 'The receiving wallet would exceed its maximum balance'),
  [SqlState.batchEmpty]: () => new ApiError(400, 'validation_error', 'A batch has 1 to 1000 transfers'),
  [SqlState.batchLengthMismatch]: () =>
    new ApiError(400, 'validation_error', 'A batch has 1 to 1000 transfers'),
  [SqlState.batchTooLarge]: () => new ApiError(400, 'validation_error', 'A batch has 1 to 1000 transfers'),
  [SqlState.transactionNotFound]: notFound,
  [SqlState.userNotFound]: notFound,
  [SqlState.invalidHoldExpiry]: () => new ApiError(400, 'validation_error', EXPIRES_RULE),
  [SqlState.holdNotFound]: holdNotFound,
  [SqlState.holdClosed]: holdClosed,
  [SqlState.captureExceedsHold]: () =>
    new ApiError(422, 'capture_exceeds_hold', 'The capture amount is more than the hold'),
  [SqlState.notHoldReceiver]: () =>
    new ApiError(403, 'not_hold_receiver', 'Only the receiver of a hold may capture or release it'),
  // Refunds: a transaction the caller is no party to is not found, as everywhere.
  [SqlState.refundTransactionNotFound]: notFound,
  [SqlState.notRefundable]: () =>
    new ApiError(
      422,
      'not_refundable',
      'Only transfers and captures can be refunded, not deposits or refunds',
    ),
  [SqlState.notOriginalReceiver]: () =>
    new ApiError(403, 'not_original_receiver', 'Only the receiver of a transaction may refund it'),
  [SqlState.refundExceedsOriginal]: refundExceeds,
  [SqlState.statementPeriodOpen]: () =>
    new ApiError(
      422,
      'period_open',
      'A statement PDF covers a period that is over: to must not be in the future',
    ),
};

const TRANSIENT = new Set(['40001', '40P01']); // serialization failure, deadlock: safe to run again
// Not reaching the database, or the database going away: worth a retry by the client, never a 500.
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled: our statement_timeout
  '53300', // too_many_connections
]);
const POOL_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|not queryable|after calling end/i;

export function isTransient(error: unknown): boolean {
  return TRANSIENT.has(sqlStateOf(error) ?? '');
}

export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (UNREACHABLE.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  return error instanceof Error && POOL_MESSAGES.test(error.message);
}

/** Runs a database call again on a serialization failure or deadlock, with jittered backoff. */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !isTransient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));
    }
  }
}

function fromFastify(error: FastifyError, bodyLimit?: number): ApiError | undefined {
  if (error.validation) return fromValidation(error.validation, error.validationContext);
  const status = error.statusCode ?? 0;
  if (status === 401) return unauthorized();
  if (status === 413) {
    const limit = bodyLimit ? ` (${bodyLimit / 1024} KiB at most)` : '';
    return new ApiError(413, 'payload_too_large', `The request body is too large${limit}`);
  }
  if (status === 415) {
    return new ApiError(
      415,
      'unsupported_media_type',
      'Send the request body as Content-Type: application/json',
    );
  }
  if (status === 400) {
    const message =
      error instanceof SyntaxError || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
        ? 'The request body is not valid JSON'
        : 'The request is malformed';
    return new ApiError(400, 'validation_error', message);
  }
  if (status === 404) return notFound();
  if (status > 400 && status < 500)
    return new ApiError(status, 'bad_request', 'The request cannot be served');
  return undefined;
}

/** What the client sees for an error, and how loudly to log it. bodyLimit: the route's, for a 413. */
export function toApiError(
  error: unknown,
  bodyLimit?: number,
): { apiError: ApiError; level: 'info' | 'warn' | 'error' } {
  if (error instanceof ApiError) return { apiError: error, level: error.statusCode >= 500 ? 'warn' : 'info' };
  const mapped = BY_SQLSTATE[sqlStateOf(error) ?? ''];
  if (mapped) return { apiError: mapped(error), level: 'info' };
  if (isTransient(error) || isUnavailable(error)) return { apiError: unavailable(), level: 'warn' };
  const fastify = fromFastify(error as FastifyError, bodyLimit);
  if (fastify) return { apiError: fastify, level: 'info' };
  return { apiError: new ApiError(500, 'internal_error', 'Internal server error'), level: 'error' };
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  // Each route has its own body limit (a batch takes 128 KiB, the rest 16): say the one that was exceeded.
  const { apiError, level } = toApiError(error, request.routeOptions?.bodyLimit);
  if (level === 'info') request.log.info({ code: apiError.code }, apiError.message);
  else request.log[level]({ err: error, code: apiError.code }, 'request failed');
  if (apiError.statusCode === 401) reply.header('WWW-Authenticate', 'Basic realm="wallet"');
  const body: Record<string, unknown> = { error: apiError.message, code: apiError.code };
  if (apiError.item !== undefined) body.item = apiError.item;
  if (apiError.details) body.details = apiError.details;
  return reply.code(apiError.statusCode).headers(apiError.headers).send(body);
}

export function notFoundHandler(_request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({ error: 'Not found', code: 'not_found' });
}
