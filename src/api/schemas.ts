// JSON schemas of the HTTP surface: they validate requests, serialize responses and produce the OpenAPI
// document. Money is always a string; ids are integers no larger than JavaScript can hold exactly.
export const MAX_ID = Number.MAX_SAFE_INTEGER;
/** Digits with at most two decimals and at most 13 integer digits; the range is checked with decimal.js. */
// Digits with at most two decimals, above zero (the lookahead refuses 0, 0.0, 0.00) and at most
// 1000000000000.00, so that the OpenAPI document itself tells fuzzers and clients the whole rule.
export const AMOUNT_PATTERN =
  '^(?!0+(\\.0{1,2})?$)((0|[1-9][0-9]{0,11})(\\.[0-9]{1,2})?|1000000000000(\\.0{1,2})?)$';
export const MAX_AMOUNT = '1000000000000.00';
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x20-\\x7E]{1,255}$';

export const AMOUNT_RULE =
  `amount must be a string of digits with at most two decimals, greater than 0 and at most ` +
  `"${MAX_AMOUNT}", for example "50.00"`;
export const KEY_RULE = 'Idempotency-Key must be 1 to 255 printable ASCII characters';

export { retryAfter };

export const BASIC_AUTH = [{ basicAuth: [] }];

const id = (description: string) => ({
  type: 'integer',
  minimum: 1,
  maximum: MAX_ID,
  description,
  examples: [2],
});
const money = (description: string) => ({
  type: 'string',
  pattern: '^[0-9]+\\.[0-9]{2}$',
  description,
  examples: ['50.00'],
});

export const amountInput = {
  type: 'string',
  pattern: AMOUNT_PATTERN,
  description: `A decimal string with at most two decimals, greater than 0 and at most ${MAX_AMOUNT}`,
  examples: ['50.00'],
};

export const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description: 'Makes a retry safe: the same key and body return the first response and move no money',
    },
  },
};

const retryAfter = { 'Retry-After': { type: 'integer', description: 'Seconds to wait before retrying' } };
const replayed = {
  'Idempotent-Replayed': { type: 'string', enum: ['true'], description: 'Present on a replayed response' },
};

export function errorResponse(description: string, headers?: Record<string, object>) {
  return {
    description,
    ...(headers ? { headers } : {}),
    type: 'object',
    required: ['error', 'code'],
    properties: {
      error: { type: 'string', description: 'A sentence a person can act on' },
      code: { type: 'string', description: 'A stable snake_case code for programs' },
      details: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            location: { type: 'string', enum: ['body', 'querystring', 'params', 'headers'] },
            field: { type: 'string' },
            message: { type: 'string' },
          },
        },
      },
    },
  };
}

/** The error answers every authenticated route can give. */
export const commonErrors = {
  401: errorResponse('Missing or wrong credentials (unauthorized)', {
    'WWW-Authenticate': { type: 'string', enum: ['Basic realm="wallet"'] },
  }),
  429: errorResponse('Too many failed logins from this address (too_many_attempts)', retryAfter),
  500: errorResponse('Unexpected failure (internal_error)'),
  503: errorResponse('The database is unreachable (unavailable)', retryAfter),
};

const receipt = {
  type: 'object',
  required: ['status', 'url'],
  properties: {
    status: { type: 'string', enum: ['pending', 'rendered'] },
    url: { type: 'string', description: 'Where to download the PDF' },
  },
};

export const transferBody = {
  type: 'object',
  required: ['receiver_id', 'amount'],
  additionalProperties: false,
  properties: { receiver_id: id('The user id of the receiving wallet'), amount: amountInput },
};

export const transferResponse = {
  description: 'The transfer is done, or a replay of it',
  headers: replayed,
  type: 'object',
  required: ['message', 'transaction_id', 'sender_balance', 'amount', 'receiver_id', 'receipt'],
  properties: {
    message: { type: 'string', enum: ['Transfer successful'] },
    transaction_id: id('The new transaction'),
    sender_balance: money("The sender's balance after the transfer"),
    amount: money('The amount moved'),
    receiver_id: id('The receiving wallet'),
    receipt,
  },
};

export const MAX_BATCH_ITEMS = 1000;

export const batchBody = {
  type: 'object',
  required: ['transfers'],
  additionalProperties: false,
  properties: {
    transfers: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_BATCH_ITEMS,
      description: `1 to ${MAX_BATCH_ITEMS} transfers from the caller, made in this order, all or none`,
      items: transferBody,
    },
  },
};

export const batchResponse = {
  description: 'Every transfer of the batch is done, or a replay of the batch',
  headers: replayed,
  type: 'object',
  required: ['message', 'sender_balance', 'transfers'],
  properties: {
    message: { type: 'string', enum: ['Batch transfer successful'] },
    sender_balance: money("The sender's balance after the whole batch"),
    transfers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['transaction_id', 'receiver_id', 'amount', 'receipt'],
        properties: {
          transaction_id: id('The transfer’s own transaction'),
          receiver_id: id('The receiving wallet'),
          amount: money('The amount moved'),
          receipt,
        },
      },
    },
  },
};

/** An error that may name the batch item that caused it. */
export function batchErrorResponse(description: string, headers?: Record<string, object>) {
  const base = errorResponse(description, headers);
  return {
    ...base,
    properties: {
      ...base.properties,
      item: { type: 'integer', minimum: 1, description: 'The failing item, 1-based' },
    },
  };
}

export const depositBody = {
  type: 'object',
  required: ['amount'],
  additionalProperties: false,
  properties: { amount: amountInput },
};

export const depositResponse = {
  description: 'The deposit is done, or a replay of it',
  headers: replayed,
  type: 'object',
  required: ['message', 'transaction_id', 'balance', 'amount'],
  properties: {
    message: { type: 'string', enum: ['Deposit successful'] },
    transaction_id: id('The new transaction'),
    balance: money('The balance after the deposit'),
    amount: money('The amount deposited'),
  },
};

// One shape for both questions: now (with available), or at an instant (?at=, with at; holds change what is
// available, never a balance, so a past balance has no available).
export const balanceResponse = {
  description: "The caller's wallet: now (available is present), or at the instant asked for (at is present)",
  type: 'object',
  required: ['user_id', 'username', 'balance'],
  properties: {
    user_id: id('The caller'),
    username: { type: 'string' },
    balance: money(
      'The balance; with at, right after the last entry at or before it (0.00 before the first)',
    ),
    available: money('Without at: what the caller can spend, the balance minus open holds'),
    at: { type: 'string', format: 'date-time', description: 'With at: the instant asked for, in UTC' },
  },
};

export const transaction = {
  type: 'object',
  required: [
    'id',
    'kind',
    'direction',
    'counterparty_id',
    'amount',
    'created_at',
    'receipt_status',
    'refund_of',
    'refunded_total',
  ],
  properties: {
    id: id('The transaction id'),
    kind: { type: 'string', enum: ['transfer', 'deposit', 'capture', 'refund'] },
    direction: { type: 'string', enum: ['sent', 'received'] },
    counterparty_id: { ...id('The other wallet; null for a deposit'), type: ['integer', 'null'] },
    amount: money('The amount moved'),
    created_at: { type: 'string', format: 'date-time' },
    receipt_status: { type: 'string', enum: ['pending', 'rendered'] },
    refund_of: {
      ...id('For a refund: the transaction it gives back; null otherwise'),
      type: ['integer', 'null'],
    },
    refunded_total: {
      ...money('For a transfer or capture: how much of it has been refunded; null for other kinds'),
      type: ['string', 'null'],
    },
  },
};

export const historyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 50, description: 'Page size, 1 to 100' },
    before: id('Only transactions with a smaller id: the next_before of the previous page'),
  },
};

export const historyResponse = {
  description: "The caller's transactions, newest first",
  type: 'object',
  required: ['transactions', 'next_before'],
  properties: {
    transactions: { type: 'array', items: transaction },
    next_before: {
      ...id('Pass as before= for the next page; null on the last page'),
      type: ['integer', 'null'],
    },
  },
};

export const transactionParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: id('The transaction id') },
};

/** Errors of every route that takes an Idempotency-Key and a JSON body. */
export const keyed = {
  400: errorResponse(
    'Bad JSON, a missing or unknown field, a bad amount or Idempotency-Key (validation_error)',
  ),
  409: errorResponse(
    'The same Idempotency-Key is being processed right now (idempotency_key_in_use)',
    retryAfter,
  ),
  413: errorResponse('The body is over 16 KiB (payload_too_large)'),
  415: errorResponse('The body is not JSON (unsupported_media_type)'),
};
