// Request validation beyond what JSON schema says: exact amounts, strict integers in paths and query strings,
// and error messages that tell the client what a valid request looks like.
import { Decimal } from 'decimal.js';
import type { FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { ApiError } from './api-error.js';
import { EXPIRES_RULE } from './holds-schemas.js';
import { INSTANT_RULE } from './periods.js';
import { AMOUNT_RULE, KEY_RULE, MAX_AMOUNT } from './schemas.js';

const RULES: Record<string, string> = {
  amount: AMOUNT_RULE,
  receiver_id: 'receiver_id must be a positive integer (a user id)',
  'idempotency-key': KEY_RULE,
  id: 'The transaction id must be a positive integer',
  limit: 'limit must be an integer from 1 to 100',
  before: 'before must be a positive integer (a transaction id)',
  hold_id: 'The hold id must be a positive integer',
  expires_in_seconds: EXPIRES_RULE,
  status: 'status must be one of open, captured, released, expired',
  from: `from must be ${INSTANT_RULE}`,
  to: `to must be ${INSTANT_RULE}`,
  at: `at must be ${INSTANT_RULE}, not in the future`,
  after: 'after must be a non-negative integer (the next_after of the previous page)',
};

// Ajv's own message for a pattern quotes the whole regular expression: a client needs the rule in words.
const PATTERN_WORDS: Record<string, string> = {
  amount: `must be a string of digits with at most two decimals, greater than 0 and at most ${MAX_AMOUNT}`,
  'idempotency-key': 'must be 1 to 255 printable ASCII characters',
};

function detailMessage(error: FastifySchemaValidationError, field: string): string {
  if (error.keyword === 'pattern') return PATTERN_WORDS[field] ?? 'is not in the expected format';
  return error.message ?? 'is not valid';
}

const shown = (name: string) => JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name);

/** The 400 for a failed schema check: one sentence for the first problem, the raw findings in details. */
export function fromValidation(errors: FastifySchemaValidationError[], location = 'body'): ApiError {
  const details = errors.map((e) => {
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    const field = params.missingProperty ?? params.additionalProperty ?? e.instancePath.replace(/^\//, '');
    return { location, field, message: detailMessage(e, field) };
  });
  const first = errors[0];
  const field = details[0]?.field ?? '';
  let message = 'The request is not valid';
  if (first?.keyword === 'required') {
    message = `Missing required field ${shown(field)}${RULES[field] ? `: ${RULES[field]}` : ''}`;
  } else if (first?.keyword === 'additionalProperties') message = `Unknown field ${shown(field)}`;
  else if (field === '' && location === 'body') message = 'The request body must be a JSON object';
  else if (RULES[field]) message = RULES[field];
  if (location === 'querystring' && first?.keyword === 'additionalProperties') {
    message = `Unknown query parameter ${shown(field)}`;
  }
  return new ApiError(400, 'validation_error', message, {}, details);
}

const MAX = new Decimal(MAX_AMOUNT);

/** The schema has checked the shape; this checks the range exactly, and returns the two-decimal form. */
export function parseAmount(text: string): string {
  const amount = new Decimal(text);
  if (amount.lte(0) || amount.gt(MAX)) {
    throw new ApiError(400, 'validation_error', AMOUNT_RULE, {}, [
      { location: 'body', field: 'amount', message: `must be greater than 0 and at most ${MAX_AMOUNT}` },
    ]);
  }
  return amount.toFixed(2);
}

const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]*)$/;

type Properties = Record<string, { type?: unknown }> | undefined;

function integerFields(schema: unknown): string[] {
  const properties = (schema as { properties?: Properties } | undefined)?.properties ?? {};
  return Object.entries(properties)
    .filter(([, p]) => p.type === 'integer')
    .map(([name]) => name);
}

/**
 * preValidation hook: path and query values arrive as text. Type coercion is off (it would accept " 1",
 * "1e3", "0x10"), so only the canonical decimal spelling of an integer is turned into a number here;
 * everything else stays text and fails the schema's integer check.
 */
export async function integersFromText(request: FastifyRequest): Promise<void> {
  const schema = request.routeOptions.schema;
  if (!schema) return;
  const parts: [unknown, Record<string, unknown>][] = [
    [schema.params, request.params as Record<string, unknown>],
    [schema.querystring, request.query as Record<string, unknown>],
  ];
  for (const [partSchema, values] of parts) {
    if (!values || typeof values !== 'object') continue;
    for (const name of integerFields(partSchema)) {
      const value = values[name];
      if (typeof value === 'string' && value.length <= 20 && CANONICAL_INTEGER.test(value)) {
        values[name] = Number(value);
      }
    }
  }
}
