// JSON schemas of the books' routes (refunds, balance at, statements): they validate requests, serialize
// responses and produce the OpenAPI document. Money is a two-decimal string; instants are RFC 3339 strings.
import { INSTANT_PATTERN } from './periods.js';
import { amountInput, errorResponse, MAX_ID, retryAfter } from './schemas.js';

/** Entries a statement page holds at most (and by default). */
export const MAX_STATEMENT_PAGE = 1000;

const id = (description: string) => ({ type: 'integer', minimum: 1, maximum: MAX_ID, description });
const money = (description: string) => ({
  type: 'string',
  pattern: '^[0-9]+\\.[0-9]{2}$',
  description,
  examples: ['50.00'],
});
const instantInput = (description: string) => ({
  type: 'string',
  pattern: INSTANT_PATTERN,
  description: `${description}: a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 timestamp with a zone`,
  examples: ['2026-11-01'],
});
const replayed = {
  'Idempotent-Replayed': { type: 'string', enum: ['true'], description: 'Present on a replayed response' },
};

export const refundBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  description: 'Empty ({}) to refund whatever is left of the transaction, or the amount to give back',
  properties: { amount: amountInput },
};

export const refundResponse = {
  description: 'The refund is done, or a replay of it',
  headers: replayed,
  type: 'object',
  required: [
    'message',
    'transaction_id',
    'refund_of',
    'amount',
    'balance',
    'refunded_total',
    'refundable_remaining',
    'receipt',
  ],
  properties: {
    message: { type: 'string', enum: ['Refund successful'] },
    transaction_id: id('The refund’s own transaction'),
    refund_of: id('The transaction refunded'),
    amount: money('The amount given back'),
    balance: money('The caller’s (the refunder’s) balance after the refund'),
    refunded_total: money('Everything refunded of the original so far, this refund included'),
    refundable_remaining: money('What may still be refunded of the original'),
    receipt: {
      type: 'object',
      required: ['status', 'url'],
      properties: {
        status: { type: 'string', enum: ['pending', 'rendered'] },
        url: { type: 'string', description: 'Where to download the refund’s receipt' },
      },
    },
  },
};

export const balanceQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { at: instantInput('The balance right after the last entry at or before this instant') },
};

export const balanceAtResponse = {
  description: 'The caller’s balance at an instant',
  type: 'object',
  required: ['user_id', 'username', 'balance', 'at'],
  properties: {
    user_id: id('The caller'),
    username: { type: 'string' },
    balance: money('The balance right after the last entry at or before `at` (0.00 before the first)'),
    at: { type: 'string', format: 'date-time', description: 'The instant asked for, in UTC' },
  },
};

export const statementQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: instantInput('The period’s start, included (default: the first of the current month)'),
    to: instantInput('The period’s end, excluded (default: now)'),
    after: {
      type: 'integer',
      minimum: 0,
      maximum: MAX_ID,
      description: `Only entries with a larger entry number: the next_after of the previous page (pages hold ${MAX_STATEMENT_PAGE} entries)`,
    },
  },
};

export const statementPdfQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: instantInput('The period’s start, included (default: the first of last month)'),
    to: instantInput('The period’s end, excluded; not in the future (default: the first of this month)'),
  },
};

const summary = {
  type: 'object',
  required: [
    'opening_balance',
    'closing_balance',
    'total_in',
    'total_out',
    'entries',
    'closing_entry',
    'closing_hash',
  ],
  properties: {
    opening_balance: money('The balance just before from'),
    closing_balance: money('The balance at the end of the period: opening + in - out'),
    total_in: money('Money received in the period'),
    total_out: money('Money sent in the period'),
    entries: { type: 'integer', minimum: 0, description: 'Entries in the period' },
    closing_entry: {
      type: 'integer',
      minimum: 0,
      description: 'The wallet’s last entry number at the end of the period (0: none yet)',
    },
    closing_hash: {
      type: ['string', 'null'],
      description:
        'That entry’s chain hash (hex), as wallet.chain_head gives it; null before the first entry',
    },
  },
};

const entry = {
  type: 'object',
  required: [
    'entry',
    'transaction_id',
    'kind',
    'direction',
    'counterparty_id',
    'amount',
    'balance_after',
    'created_at',
    'hash',
  ],
  properties: {
    entry: { type: 'integer', minimum: 1, description: 'The entry number in this wallet’s chain' },
    transaction_id: id('The transaction'),
    kind: { type: 'string', enum: ['transfer', 'deposit', 'capture', 'refund'] },
    direction: { type: 'string', enum: ['sent', 'received'] },
    counterparty_id: { ...id('The other wallet; null for a deposit'), type: ['integer', 'null'] },
    amount: money('The amount moved'),
    balance_after: money('The wallet’s balance right after this entry'),
    created_at: { type: 'string', format: 'date-time' },
    hash: { type: 'string', description: 'The entry’s chain hash (hex)' },
  },
};

export const statementResponse = {
  description: 'The summary of the period and a page of its entries, oldest first',
  type: 'object',
  required: ['user_id', 'from', 'to', 'summary', 'entries', 'next_after'],
  properties: {
    user_id: id('The caller'),
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    summary,
    entries: { type: 'array', items: entry },
    next_after: {
      type: ['integer', 'null'],
      minimum: 1,
      description: 'Pass as after= (with the same from and to) for the next page; null on the last page',
    },
  },
};

export const statementPdfResponses = {
  200: {
    description: 'The statement PDF',
    content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } },
  },
  202: {
    description: 'Being rendered; ask the same URL again after Retry-After seconds',
    headers: retryAfter,
    type: 'object',
    required: ['status', 'url'],
    properties: {
      status: { type: 'string', enum: ['rendering'] },
      url: {
        type: 'string',
        description: 'Where the PDF will be: this request, with its period spelled out',
      },
    },
  },
  400: errorResponse('A malformed or reversed period (validation_error)'),
  422: errorResponse('The period is not over yet (period_open): ask the JSON statement for it'),
};
