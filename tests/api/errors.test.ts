// The error mapper on its own, and through the app with a fake database that fails in chosen ways (unit
// tests: database-failures.test.ts produces the 503 cases from a real PostgreSQL).

import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { isUnavailable, toApiError, withRetry } from '../../src/api/errors.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { basic, FakeReceipts, PASSWORD, testConfig } from '../helpers/api.js';

const pgError = (code: string, message = 'boom', detail = 'wallet 7 has 12.00') =>
  Object.assign(new Error(message), { code, detail, severity: 'ERROR' });

describe('SQLSTATE to HTTP', () => {
  it.each([
    ['W1001', 422, 'insufficient_funds', 'Insufficient funds'],
    ['W1003', 404, 'receiver_not_found', 'Receiver not found'],
    ['W1004', 422, 'same_wallet', 'Cannot transfer to your own wallet'],
    [
      'W1005',
      400,
      'validation_error',
      'amount must be a string of digits with at most two decimals, greater than 0 and at most ' +
        '"1000000000000.00", for example "50.00"',
    ],
    ['W1006', 422, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different request'],
    ['W1007', 400, 'validation_error', 'Idempotency-Key must be 1 to 255 printable ASCII characters'],
    [
      'W1011',
      409,
      'idempotency_key_in_use',
      'A request with this Idempotency-Key is still being processed; retry shortly',
    ],
    ['W1013', 404, 'not_found', 'Not found'],
    ['W1014', 422, 'balance_limit_exceeded', 'The receiving wallet would exceed its maximum balance'],
  ])('%s -> %i %s', (state, status, code, text) => {
    const { apiError } = toApiError(pgError(state));
    expect([apiError.statusCode, apiError.code, apiError.message]).toEqual([status, code, text]);
  });

  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    '57P01',
    '57P02',
    '57P03',
    '08006',
    '08001',
    '53300',
    '40001',
    '40P01',
  ])('%s -> 503 unavailable with Retry-After', (code) => {
    const { apiError } = toApiError(pgError(code));
    expect(apiError.statusCode).toBe(503);
    expect(apiError.code).toBe('unavailable');
    expect(apiError.headers['Retry-After']).toBe('2');
  });

  it('treats the pool failing to connect in time as unavailable', () => {
    expect(isUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isUnavailable(new Error('something else'))).toBe(false);
  });

  it('anything else is a generic 500', () => {
    for (const error of [
      pgError('42P01', 'relation "wallet.secret" does not exist'),
      new TypeError('x is undefined'),
      'a string',
    ]) {
      const { apiError, level } = toApiError(error);
      expect([apiError.statusCode, apiError.code, apiError.message]).toEqual([
        500,
        'internal_error',
        'Internal server error',
      ]);
      expect(level).toBe('error');
    }
  });
});

describe('retries', () => {
  it('runs again after serialization failures and deadlocks, then succeeds', async () => {
    let calls = 0;
    const result = await withRetry(async () => {
      calls++;
      if (calls === 1) throw pgError('40001');
      if (calls === 2) throw pgError('40P01');
      return 'done';
    });
    expect([result, calls]).toEqual(['done', 3]);
  });

  it('gives up after four attempts, and never retries other errors', async () => {
    let calls = 0;
    const failing = (code: string) => async () => {
      calls++;
      throw pgError(code);
    };
    await expect(withRetry(failing('40001'))).rejects.toMatchObject({ code: '40001' });
    expect(calls).toBe(4);
    calls = 0;
    await expect(withRetry(failing('W1001'))).rejects.toMatchObject({ code: 'W1001' });
    expect(calls).toBe(1);
  });
});

// A pool that knows the credentials of user 1 and fails transfers the way a test asks.
async function appWithFailingTransfers(fail: (attempt: number) => unknown) {
  const hash = await hashPassword(PASSWORD, 10);
  let attempts = 0;
  const pool = {
    // ledger.ts sends named statements ({ name, text, values }).
    async query({ text }: { text: string }) {
      if (text.includes('user_credentials'))
        return { rows: [{ user_id: 1, username: 'u', password_hash: hash }] };
      if (text.includes('wallet.transfer')) {
        const outcome = fail(++attempts);
        if (outcome instanceof Error) throw outcome;
        return { rows: [outcome] };
      }
      throw new Error(`unexpected query ${text}`);
    },
  } as unknown as pg.Pool;
  const app = await buildApp({ pool, config: testConfig, receipts: new FakeReceipts(), logger: false });
  const send = () =>
    app.inject({
      method: 'POST',
      url: '/api/wallet/transfer/',
      headers: { authorization: basic('u') },
      payload: { receiver_id: 2, amount: '1.00' },
    });
  return { app, send, attempts: () => attempts };
}

describe('through the app', () => {
  it('retries a serialization failure and answers 201', async () => {
    const row = {
      transaction_id: 9,
      sender_balance: '1.00',
      receiver_balance: '1.00',
      created_at: new Date(),
      replayed: false,
    };
    const { app, send, attempts } = await appWithFailingTransfers((n) => (n < 3 ? pgError('40001') : row));
    const res = await send();
    expect(res.statusCode).toBe(201);
    expect(attempts()).toBe(3);
    await app.close();
  });

  it('answers 503 with Retry-After when retries run out', async () => {
    const { app, send } = await appWithFailingTransfers(() => pgError('40P01'));
    const res = await send();
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.json()).toEqual({
      error: 'The service is temporarily unavailable; retry shortly',
      code: 'unavailable',
    });
    await app.close();
  });

  it('answers a generic 500 that leaks no SQL, DETAIL or stack', async () => {
    const { app, send } = await appWithFailingTransfers(() =>
      pgError('XX000', 'SELECT secret FROM wallet.users failed', 'user bob has hash $scrypt$...'),
    );
    const res = await send();
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'Internal server error', code: 'internal_error' });
    await app.close();
  });

  it('a database failure while checking credentials is a 503 or 500, never a 401', async () => {
    for (const [error, status] of [
      [pgError('ECONNREFUSED'), 503],
      [pgError('42883', 'function wallet.user_credentials does not exist'), 500],
    ] as const) {
      const pool = { query: async () => Promise.reject(error) } as unknown as pg.Pool;
      const app = await buildApp({ pool, config: testConfig, receipts: new FakeReceipts(), logger: false });
      const res = await app.inject({ url: '/api/wallet/balance/', headers: { authorization: basic('u') } });
      expect(res.statusCode).toBe(status);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.body).not.toContain('user_credentials');
      await app.close();
    }
  });
});
