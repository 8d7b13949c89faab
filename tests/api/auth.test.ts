// Basic auth: one answer for every kind of bad credential, a short-lived cache, and a per-address throttle.
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { type ApiContext, basic, createApiContext, PASSWORD, type TestUser } from '../helpers/api.js';

let ctx: ApiContext;
let app: FastifyInstance;
let alice: TestUser;
let nohash: string;

beforeAll(async () => {
  ctx = await createApiContext();
  app = await ctx.build();
  alice = await ctx.user('alice', '10.00');
  nohash = `nohash_${process.pid}`;
  await ctx.db.admin.query('SELECT wallet.create_user($1, NULL)', [nohash]);
});

const balance = (target: FastifyInstance, authorization?: string, remoteAddress = '127.0.0.1') =>
  target.inject({
    url: '/api/wallet/balance/',
    headers: authorization === undefined ? {} : { authorization },
    remoteAddress,
  });

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function expectUnauthorized(res: Awaited<ReturnType<typeof balance>>) {
  expect(res.statusCode).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Basic realm="wallet"');
  expect(res.json()).toEqual({
    error: 'Authentication required: send valid credentials',
    code: 'unauthorized',
  });
}

describe('credentials', () => {
  it('lets a user in with the right password, whatever the case of the name', async () => {
    expect((await balance(app, alice.auth)).statusCode).toBe(200);
    const upper = await balance(app, basic(alice.username.toUpperCase()));
    expect(upper.statusCode).toBe(200);
    expect(upper.json().user_id).toBe(alice.id);
  });

  it('works with a hash of the production cost', async () => {
    const name = `prod_${process.pid}`;
    await ctx.db.admin.query('SELECT wallet.create_user($1, $2)', [name, await hashPassword('pr0d pass')]);
    expect((await balance(app, basic(name, 'pr0d pass'))).statusCode).toBe(200);
  });

  it('gives one and the same 401 for a missing header, a wrong password, an unknown user and a NULL hash', async () => {
    const bodies = new Set<string>();
    for (const header of [
      undefined,
      basic(alice.username, 'wrong password'),
      basic(alice.username, ''),
      basic(`nobody_${process.pid}`),
      basic(nohash, ''),
      basic(nohash, PASSWORD),
      basic('', ''),
      basic('x'.repeat(151)),
      basic(alice.username, 'p'.repeat(2000)),
    ]) {
      const res = await balance(app, header);
      expectUnauthorized(res);
      bodies.add(res.body);
    }
    expect(bodies.size).toBe(1);
  });

  it.each([
    ['another scheme', 'Bearer abc'],
    ['no credentials', 'Basic'],
    ['an empty token', 'Basic '],
    ['two spaces', `Basic  ${b64('a:b')}`],
    ['not base64', 'Basic !!!!'],
    ['no colon', `Basic ${b64('justaname')}`],
    ['a control character', `Basic ${b64('alice:pass\u0001word')}`],
    ['trailing junk', `Basic ${b64('a:b')} extra`],
  ])('401 for a malformed header: %s', async (_name, header) => {
    expectUnauthorized(await balance(app, header));
  });

  it('never lets a NULL-hash user in, even with an empty password', async () => {
    const res = await balance(app, `Basic ${b64(`${nohash}:`)}`);
    expect(res.statusCode).toBe(401);
  });
});

describe('credential cache', () => {
  it('trusts a verified header until it expires, then checks the database again', async () => {
    let clock = 1_000_000;
    const cached = await ctx.build({ auth: { now: () => clock, maxFailures: 1000 } });
    const user = await ctx.user('cached');
    expect((await balance(cached, user.auth)).statusCode).toBe(200);
    await ctx.db.admin.query('SELECT wallet.set_password($1, $2)', [
      user.username,
      await hashPassword('new', 10),
    ]);
    clock += 59_000;
    expect((await balance(cached, user.auth)).statusCode).toBe(200); // still cached
    clock += 2_000;
    expect((await balance(cached, user.auth)).statusCode).toBe(401); // expired: the new password rules
    expect((await balance(cached, basic(user.username, 'new'))).statusCode).toBe(200);
  });

  it('is bounded: the least recently used entry is dropped first, not the oldest', async () => {
    const small = await ctx.build({ auth: { cacheMax: 2, maxFailures: 1000 } });
    const [u1, u2, u3] = [await ctx.user('lru'), await ctx.user('lru'), await ctx.user('lru')];
    for (const u of [u1, u2]) expect((await balance(small, u.auth)).statusCode).toBe(200);
    expect((await balance(small, u1.auth)).statusCode).toBe(200); // u1, the oldest, is used again
    expect((await balance(small, u3.auth)).statusCode).toBe(200); // overflow: drops u2, not u1
    const other = await hashPassword('other', 10);
    for (const u of [u1, u2, u3])
      await ctx.db.admin.query('SELECT wallet.set_password($1, $2)', [u.username, other]);
    // Only cached logins still pass with the old password: FIFO eviction would have dropped u1 instead.
    expect((await balance(small, u1.auth)).statusCode).toBe(200);
    expect((await balance(small, u3.auth)).statusCode).toBe(200);
    expect((await balance(small, u2.auth)).statusCode).toBe(401);
  });
});

describe('failed-login throttle', () => {
  it('answers 429 too_many_attempts with Retry-After after 10 failures from one address', async () => {
    let clock = 5_000_000;
    const guarded = await ctx.build({ auth: { now: () => clock } }); // the defaults: 10 per 5 minutes
    const victim = await ctx.user('victim');
    const regular = await ctx.user('regular');
    expect((await balance(guarded, regular.auth, '10.0.0.1')).statusCode).toBe(200); // cached before the attack
    for (let i = 0; i < 10; i++) {
      expect((await balance(guarded, basic(victim.username, `guess${i}`), '10.0.0.1')).statusCode).toBe(401);
    }
    const blocked = await balance(guarded, basic(victim.username, 'guess10'), '10.0.0.1');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toEqual({
      error: 'Too many failed logins; retry later',
      code: 'too_many_attempts',
    });
    expect(Number(blocked.headers['retry-after'])).toBe(300);
    // Even the right password waits: the throttle does not tell a guess that would have worked.
    expect((await balance(guarded, victim.auth, '10.0.0.1')).statusCode).toBe(429);
    // A login this process already verified costs no hashing and is let through.
    expect((await balance(guarded, regular.auth, '10.0.0.1')).statusCode).toBe(200);
    // Other addresses are not affected.
    expect((await balance(guarded, victim.auth, '10.0.0.2')).statusCode).toBe(200);
    clock += 120_000;
    expect(
      Number((await balance(guarded, basic(victim.username, 'x'), '10.0.0.1')).headers['retry-after']),
    ).toBe(180);
    clock += 181_000;
    expect((await balance(guarded, basic(victim.username, 'again'), '10.0.0.1')).statusCode).toBe(401);
  });
});
