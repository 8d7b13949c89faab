// A table of bad requests: each gets its exact status and code, and no money moves. Then a seeded random
// sweep of amount spellings against an independent oracle.
import { Decimal } from 'decimal.js';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiContext, createApiContext, type TestUser } from '../helpers/api.js';
import { seededRandom } from '../helpers/random.js';

let ctx: ApiContext;
let app: FastifyInstance;
let sender: TestUser;
let receiver: TestUser;

beforeAll(async () => {
  ctx = await createApiContext();
  app = await ctx.build();
  sender = await ctx.user('sender', '1000.00');
  receiver = await ctx.user('receiver');
});

interface Case {
  name: string;
  url?: string;
  body?: unknown; // serialised with JSON.stringify unless raw is given
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  code: string;
  error?: string; // the message, where it matters
}

const T = '/api/wallet/transfer/';
const D = '/api/wallet/deposit/';
const ok = () => ({ receiver_id: receiver.id, amount: '1.00' });
const amount = (value: unknown) => () => ({ receiver_id: receiver.id, amount: value });
const v = 'validation_error';

const cases: (Omit<Case, 'body'> & { body?: () => unknown })[] = [
  { name: 'amount as a JSON number', body: amount(10), status: 400, code: v },
  { name: 'amount as a fractional number', body: amount(10.5), status: 400, code: v },
  { name: 'amount with an exponent', body: amount('1e3'), status: 400, code: v },
  { name: 'amount with a plus sign', body: amount('+1'), status: 400, code: v },
  { name: 'amount with a minus sign', body: amount('-1'), status: 400, code: v },
  { name: 'amount with a leading space', body: amount(' 1'), status: 400, code: v },
  { name: 'amount with a trailing space', body: amount('1 '), status: 400, code: v },
  { name: 'amount with three decimals', body: amount('1.001'), status: 400, code: v },
  { name: 'amount 0.001 (never rounded)', body: amount('0.001'), status: 400, code: v },
  { name: 'amount zero', body: amount('0'), status: 400, code: v },
  { name: 'amount 0.00', body: amount('0.00'), status: 400, code: v },
  { name: 'amount NaN', body: amount('NaN'), status: 400, code: v },
  { name: 'amount Infinity', body: amount('Infinity'), status: 400, code: v },
  { name: 'amount empty', body: amount(''), status: 400, code: v },
  { name: 'amount over the maximum', body: amount('1000000000000.01'), status: 400, code: v },
  { name: 'amount with 14 digits', body: amount('10000000000000'), status: 400, code: v },
  { name: 'amount in Arabic-Indic digits', body: amount('\u0661\u0662'), status: 400, code: v },
  { name: 'amount in fullwidth digits', body: amount('\uff11'), status: 400, code: v },
  { name: 'amount with a newline', body: amount('1\n'), status: 400, code: v },
  { name: 'amount with a NUL', body: amount('1\u0000'), status: 400, code: v },
  { name: 'amount with a bell character', body: amount('\u00071'), status: 400, code: v },
  { name: 'amount .5', body: amount('.5'), status: 400, code: v },
  { name: 'amount 5.', body: amount('5.'), status: 400, code: v },
  { name: 'amount with a leading zero', body: amount('01'), status: 400, code: v },
  { name: 'amount with a decimal comma', body: amount('1,00'), status: 400, code: v },
  { name: 'amount in hex', body: amount('0x10'), status: 400, code: v },
  { name: 'amount null', body: amount(null), status: 400, code: v },
  { name: 'amount true', body: amount(true), status: 400, code: v },
  { name: 'amount as an array', body: amount(['1']), status: 400, code: v },
  { name: 'amount as an object', body: amount({ value: '1' }), status: 400, code: v },
  { name: 'amount missing', body: () => ({ receiver_id: receiver.id }), status: 400, code: v },
  {
    name: 'receiver_id as a string',
    body: () => ({ receiver_id: String(receiver.id), amount: '1' }),
    status: 400,
    code: v,
  },
  { name: 'receiver_id 0', body: () => ({ receiver_id: 0, amount: '1' }), status: 400, code: v },
  { name: 'receiver_id -1', body: () => ({ receiver_id: -1, amount: '1' }), status: 400, code: v },
  { name: 'receiver_id 1.5', body: () => ({ receiver_id: 1.5, amount: '1' }), status: 400, code: v },
  {
    name: 'receiver_id 2^63',
    raw: '{"receiver_id": 9223372036854775808, "amount": "1"}',
    status: 400,
    code: v,
  },
  { name: 'receiver_id null', body: () => ({ receiver_id: null, amount: '1' }), status: 400, code: v },
  { name: 'receiver_id missing', body: () => ({ amount: '1' }), status: 400, code: v },
  { name: 'an unknown field', body: () => ({ ...ok(), note: 'hi' }), status: 400, code: v },
  { name: 'a sender_id field', body: () => ({ ...ok(), sender_id: 1 }), status: 400, code: v },
  { name: 'a body that is an array', body: () => [ok()], status: 400, code: v },
  { name: 'a body that is a string', body: () => 'transfer', status: 400, code: v },
  { name: 'a body that is null', raw: 'null', status: 400, code: v },
  { name: 'a truncated JSON body', raw: '{"receiver_id": 2, "amount": "1.0', status: 400, code: v },
  { name: 'JSON with a trailing comma', raw: '{"receiver_id": 2, "amount": "1",}', status: 400, code: v },
  { name: 'an empty JSON body', raw: '', status: 400, code: v },
  {
    name: 'a __proto__ key',
    raw: '{"receiver_id": 2, "amount": "1", "__proto__": {"x": 1}}',
    status: 400,
    code: v,
  },
  {
    name: 'a 20 KiB body',
    raw: JSON.stringify({ amount: '1', pad: 'x'.repeat(20_000) }),
    status: 413,
    code: 'payload_too_large',
    error: 'The request body is too large (16 KiB at most)',
  },
  {
    name: 'a 200 KB batch (its route takes 128 KiB)',
    url: '/api/wallet/transfer/batch/',
    raw: JSON.stringify({ transfers: [], pad: 'x'.repeat(200_000) }),
    status: 413,
    code: 'payload_too_large',
    error: 'The request body is too large (128 KiB at most)',
  },
  {
    name: 'text/plain',
    raw: '{"receiver_id": 2, "amount": "1"}',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a form body',
    raw: 'receiver_id=2&amount=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'XML',
    raw: '<transfer/>',
    headers: { 'content-type': 'application/xml' },
    status: 415,
    code: 'unsupported_media_type',
  },
  { name: 'an empty Idempotency-Key', body: ok, headers: { 'idempotency-key': '' }, status: 400, code: v },
  {
    name: 'a 256-character Idempotency-Key',
    body: ok,
    headers: { 'idempotency-key': 'k'.repeat(256) },
    status: 400,
    code: v,
  },
  {
    name: 'a non-ASCII Idempotency-Key',
    body: ok,
    headers: { 'idempotency-key': Buffer.from('ключ', 'utf8').toString('latin1') },
    status: 400,
    code: v,
  },
  {
    name: 'an Idempotency-Key with a tab',
    body: ok,
    headers: { 'idempotency-key': 'a\tb' },
    status: 400,
    code: v,
  },
  {
    name: 'an overlong Authorization header',
    body: ok,
    headers: { authorization: `Basic ${'QUFB'.repeat(3000)}` },
    status: 401,
    code: 'unauthorized',
  },
  { name: 'deposit: amount as a number', url: D, body: () => ({ amount: 5 }), status: 400, code: v },
  { name: 'deposit: three decimals', url: D, body: () => ({ amount: '0.001' }), status: 400, code: v },
  {
    name: 'deposit: over the maximum',
    url: D,
    body: () => ({ amount: '1000000000000.01' }),
    status: 400,
    code: v,
  },
  {
    name: 'deposit: a receiver_id field',
    url: D,
    body: () => ({ amount: '5', receiver_id: 2 }),
    status: 400,
    code: v,
  },
  {
    name: 'deposit: not JSON',
    url: D,
    raw: 'amount=5',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'unsupported_media_type',
  },
];

async function snapshot() {
  return [await ctx.balanceOf(sender.id), await ctx.balanceOf(receiver.id), await ctx.transactionCount()];
}

describe('bad requests', () => {
  it('the table has at least 40 rows', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = await snapshot();
    const res = await app.inject({
      method: 'POST',
      url: c.url ?? T,
      headers: { authorization: sender.auth, 'content-type': 'application/json', ...c.headers },
      payload: c.raw ?? JSON.stringify(c.body?.()),
    });
    expect(res.statusCode).toBe(c.status);
    const body = res.json();
    expect(body.code).toBe(c.code);
    expect(typeof body.error).toBe('string');
    if (c.error) expect(body.error).toBe(c.error);
    expect(Object.keys(body).every((k) => ['error', 'code', 'details'].includes(k))).toBe(true);
    expect(res.body).not.toMatch(/wallet\.|SELECT|at .*\.ts|node_modules/);
    if (c.body && String(c.name).startsWith('amount')) expect(body.error).toContain('"50.00"');
    expect(await snapshot()).toEqual(before);
  });
});

describe('validation details', () => {
  const post = (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: T, headers: { authorization: sender.auth, ...headers }, payload });

  it('states the amount rule in words, not as the schema pattern', async () => {
    const res = await post({ receiver_id: receiver.id, amount: '1.001' });
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([
      {
        location: 'body',
        field: 'amount',
        message:
          'must be a string of digits with at most two decimals, greater than 0 and at most 1000000000000.00',
      },
    ]);
  });

  it('states the Idempotency-Key rule in words', async () => {
    const res = await post(ok(), { 'idempotency-key': 'k'.repeat(256) });
    expect(res.statusCode).toBe(400);
    const [detail] = res.json().details;
    expect(detail.field).toBe('idempotency-key');
    expect(detail.message).toBe('must be 1 to 255 printable ASCII characters');
  });

  it('never quotes a regular expression', async () => {
    for (const amount of ['0', '1e3', ' 1', '01']) {
      const res = await post({ receiver_id: receiver.id, amount });
      expect(res.body, amount).not.toMatch(/pattern|\^|\(\?!|\[0-9\]/);
    }
  });
});

function oracle(text: string): boolean {
  const [whole, fraction, ...more] = text.split('.');
  if (more.length > 0 || whole === undefined) return false;
  const digits = (s: string) => s.length > 0 && [...s].every((ch) => ch >= '0' && ch <= '9');
  if (!digits(whole) || whole.length > 13 || (whole.length > 1 && whole[0] === '0')) return false;
  if (fraction !== undefined && (!digits(fraction) || fraction.length > 2)) return false;
  const value = new Decimal(text);
  return value.gt(0) && value.lte('1000000000000');
}

describe('random amounts (seeded)', () => {
  it('accepts exactly what the oracle accepts, and moves exactly that much', async () => {
    const { seed, next } = seededRandom('random amounts');
    const rich = await ctx.user('rich');
    const sink = await ctx.user('sink');
    // Enough for 150 transfers of the largest amount: a valid amount must never fail for want of money.
    await ctx.db.admin.query('SELECT wallet.deposit($1, 1000000000000) FROM generate_series(1, 150)', [
      rich.id,
    ]);
    const alphabet = ['0', '1', '5', '9', '.', '.', '-', '+', 'e', ' ', '\u0661', ',', 'x'];
    let moved = new Decimal(0);
    let accepted = 0;
    for (let i = 0; i < 150; i++) {
      const length = Math.floor(next() * 16);
      let text = '';
      for (let j = 0; j < length; j++) {
        // Mostly digits, so that valid amounts come up often enough.
        text +=
          next() < 0.75 ? String(Math.floor(next() * 10)) : alphabet[Math.floor(next() * alphabet.length)];
      }
      const valid = oracle(text);
      const res = await app.inject({
        method: 'POST',
        url: T,
        headers: { authorization: rich.auth },
        payload: { receiver_id: sink.id, amount: text },
      });
      expect(res.statusCode, `seed=${seed} amount=${JSON.stringify(text)}`).toBe(valid ? 201 : 400);
      if (valid) {
        accepted++;
        moved = moved.plus(text);
        expect(res.json().amount, `seed=${seed}`).toBe(new Decimal(text).toFixed(2));
      }
    }
    expect(await ctx.balanceOf(sink.id), `seed=${seed}`).toBe(moved.toFixed(2));
    expect(accepted).toBeGreaterThan(0);
  });
});
