// JSON schemas of the holds endpoints (request checks, response serialization and the OpenAPI document).
import { amountInput, errorResponse, MAX_ID } from './schemas.js';

export const MIN_HOLD_SECONDS = 1;
export const MAX_HOLD_SECONDS = 90 * 24 * 3600; // 90 days, as wallet.hold allows
export const DEFAULT_HOLD_SECONDS = 7 * 24 * 3600;
export const HOLD_STATUSES = ['open', 'captured', 'released', 'expired'] as const;

export const EXPIRES_RULE = `expires_in_seconds must be an integer from ${MIN_HOLD_SECONDS} to ${MAX_HOLD_SECONDS} (90 days)`;

const id = (description: string) => ({
  type: 'integer',
  minimum: 1,
  maximum: MAX_ID,
  description,
  examples: [2],
});
const nullableId = (description: string) => ({ ...id(description), type: ['integer', 'null'] });
const money = (description: string) => ({
  type: 'string',
  pattern: '^[0-9]+\\.[0-9]{2}$',
  description,
  examples: ['50.00'],
});
const time = (description: string) => ({ type: 'string', format: 'date-time', description });
const replayed = {
  'Idempotent-Replayed': { type: 'string', enum: ['true'], description: 'Present on a replayed response' },
};

export const holdBody = {
  type: 'object',
  required: ['receiver_id', 'amount'],
  additionalProperties: false,
  properties: {
    receiver_id: id('The user id who may capture the hold'),
    amount: amountInput,
    expires_in_seconds: {
      type: 'integer',
      minimum: MIN_HOLD_SECONDS,
      maximum: MAX_HOLD_SECONDS,
      default: DEFAULT_HOLD_SECONDS,
      description: 'Seconds until the hold expires and its money is available again (default 7 days)',
    },
  },
};

export const holdCreated = {
  description: 'The money is reserved, or a replay of that answer',
  headers: replayed,
  type: 'object',
  required: ['hold_id', 'status', 'amount', 'receiver_id', 'expires_at', 'available_balance'],
  properties: {
    hold_id: id('The new hold'),
    status: { type: 'string', enum: ['open'] },
    amount: money('The amount reserved'),
    receiver_id: id('Who may capture it'),
    expires_at: time('When the hold expires'),
    available_balance: money("The sender's available balance (balance minus open holds) after the hold"),
  },
};

export const hold = {
  type: 'object',
  required: ['hold_id', 'status', 'sender_id', 'receiver_id', 'amount', 'captured_amount', 'transaction_id'],
  properties: {
    hold_id: id('The hold'),
    status: {
      type: 'string',
      enum: HOLD_STATUSES,
      description: 'As of now: an open hold past expires_at is expired',
    },
    sender_id: id('Whose money is held'),
    receiver_id: id('Who may capture it'),
    amount: money('The amount held'),
    captured_amount: { ...money('What the capture moved; null unless captured'), type: ['string', 'null'] },
    transaction_id: nullableId('The capture transaction; null unless captured'),
    created_at: time('When the hold was placed'),
    expires_at: time('When it expires (or expired)'),
    closed_at: {
      ...time('When it was captured, released or expired; null while open'),
      type: ['string', 'null'],
    },
  },
};

export const holdsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: HOLD_STATUSES, description: 'Only holds with this status (as of now)' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 50, description: 'Page size, 1 to 100' },
    before: id('Only holds with a smaller id: the next_before of the previous page'),
  },
};

export const holdsPage = {
  description: 'Holds the caller placed or may capture, newest first',
  type: 'object',
  required: ['holds', 'next_before'],
  properties: {
    holds: { type: 'array', items: hold },
    next_before: nullableId('Pass as before= for the next page; null on the last page'),
  },
};

export const holdParams = {
  type: 'object',
  required: ['hold_id'],
  additionalProperties: false,
  properties: { hold_id: id('The hold id') },
};

export const captureBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    amount: { ...amountInput, description: `${amountInput.description}; default: all of the hold` },
  },
};

// A release takes no fields; an empty JSON object, or no body at all.
export const releaseBody = { type: ['object', 'null'], additionalProperties: false, properties: {} };

export const captureResponse = {
  description: 'The hold is captured (the rest released), or a replay of that answer',
  headers: replayed,
  type: 'object',
  required: [
    'message',
    'hold_id',
    'status',
    'transaction_id',
    'amount',
    'released_amount',
    'receiver_balance',
    'receipt',
  ],
  properties: {
    message: { type: 'string', enum: ['Capture successful'] },
    hold_id: id('The hold'),
    status: { type: 'string', enum: ['captured'] },
    transaction_id: id('The capture transaction'),
    amount: money('The amount moved to the receiver'),
    released_amount: money('The rest of the hold, available to the sender again'),
    receiver_balance: money("The caller's balance after the capture"),
    receipt: {
      type: 'object',
      required: ['status', 'url'],
      properties: { status: { type: 'string', enum: ['pending', 'rendered'] }, url: { type: 'string' } },
    },
  },
};

export const releaseResponse = {
  description: 'The hold is released; no money moved',
  type: 'object',
  required: ['hold_id', 'status'],
  properties: { hold_id: id('The hold'), status: { type: 'string', enum: ['released'] } },
};

export const holdErrors = {
  notFound: { 404: errorResponse('No such hold, or you are not party to it (hold_not_found)') },
  notReceiver: { 403: errorResponse('Only the receiver may capture or release a hold (not_hold_receiver)') },
};
