// Basic auth over the users in the database. A good login costs one scrypt, then is cached briefly; a bad one
// costs the same scrypt (a dummy hash for unknown users) and counts towards a per-address throttle.
import { createHmac, randomBytes } from 'node:crypto';
import basicAuth from '@fastify/basic-auth';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type pg from 'pg';
import { MAX_PASSWORD_LENGTH, verifyPassword } from '../auth/passwords.js';
import { ledger } from '../db/ledger.js';
import { ApiError } from './api-error.js';
import { toApiError, unauthorized } from './errors.js';

export interface AuthUser {
  id: number;
  username: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser | null;
  }
}

export interface AuthOptions {
  /** How long a verified header is trusted without hashing again (a changed password waits this long). */
  cacheTtlMs?: number;
  cacheMax?: number;
  /** Failed logins from one address within the window before it gets 429 for the rest of the window. */
  maxFailures?: number;
  failureWindowMs?: number;
  now?: () => number;
}

const MAX_USERNAME_LENGTH = 150;

/** A bounded map in insertion order; a hit moves the key to the back, so the front is least recently used. */
class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}

export function createAuthenticator(pool: pg.Pool, opts: AuthOptions = {}) {
  const ttl = opts.cacheTtlMs ?? 60_000;
  const maxFailures = opts.maxFailures ?? 10;
  const window = opts.failureWindowMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;
  const verified = new BoundedMap<{ user: AuthUser; expires: number }>(opts.cacheMax ?? 10_000);
  const failures = new BoundedMap<{ count: number; resetAt: number }>(10_000);
  // Keyed by an HMAC with a per-process secret, so the cache never holds anything that reveals a password.
  const secret = randomBytes(32);
  const cacheKey = (header: string) => createHmac('sha256', secret).update(header).digest('base64');

  function throttle(ip: string) {
    const entry = failures.get(ip);
    if (!entry || entry.resetAt <= now() || entry.count < maxFailures) return;
    const seconds = Math.max(1, Math.ceil((entry.resetAt - now()) / 1000));
    throw new ApiError(429, 'too_many_attempts', 'Too many failed logins; retry later', {
      'Retry-After': String(seconds),
    });
  }

  function recordFailure(ip: string) {
    const entry = failures.get(ip);
    if (!entry || entry.resetAt <= now()) failures.set(ip, { count: 1, resetAt: now() + window });
    else entry.count++;
  }

  // One scrypt per header at a time: concurrent requests with the same new credentials share the check.
  const inflight = new Map<string, Promise<AuthUser | undefined>>();

  async function check(username: string, password: string): Promise<AuthUser | undefined> {
    const row =
      username.length <= MAX_USERNAME_LENGTH && password.length <= MAX_PASSWORD_LENGTH
        ? await ledger.credentials(pool, username)
        : undefined;
    const ok = await verifyPassword(password, row?.password_hash);
    return ok && row ? { id: row.user_id, username: row.username } : undefined;
  }

  return async function validate(username: string, password: string, request: FastifyRequest): Promise<void> {
    const key = cacheKey(request.headers.authorization ?? '');
    const hit = verified.get(key);
    if (hit && hit.expires > now()) {
      request.user = hit.user;
      return;
    }
    if (hit) verified.delete(key);
    throttle(request.ip);
    let pending = inflight.get(key);
    if (!pending) {
      pending = check(username, password).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    let user: AuthUser | undefined;
    try {
      user = await pending;
    } catch (error) {
      // @fastify/basic-auth turns any error without a status into a 401: keep a database outage a 503.
      const { apiError } = toApiError(error);
      request.log.warn({ err: error }, 'credential check failed');
      throw apiError;
    }
    if (!user) {
      recordFailure(request.ip);
      throw unauthorized();
    }
    verified.set(key, { user, expires: now() + ttl });
    request.user = user;
  };
}

/** Requires Basic auth on every route registered in the calling scope (registered with fastify-plugin). */
export const walletAuth = fp(
  async (app: FastifyInstance, opts: { pool: pg.Pool; auth?: AuthOptions }) => {
    if (!app.hasRequestDecorator('user')) app.decorateRequest('user', null);
    await app.register(basicAuth, {
      validate: createAuthenticator(opts.pool, opts.auth),
      authenticate: false,
    });
    app.addHook('onRequest', app.basicAuth);
  },
  { name: 'wallet-auth', fastify: '5.x' },
);
