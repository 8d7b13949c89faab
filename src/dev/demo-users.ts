// Demo users for local use, made once: a second run finds them and leaves them (and their money) alone.
import type pg from 'pg';
import { hashPassword } from '../auth/passwords.js';
import { ledger } from '../db/ledger.js';

export const DEMO_USERS = [
  { username: 'alice', password: 'alice-demo-password' },
  { username: 'bob', password: 'bob-demo-password' },
] as const;
export const DEMO_FUNDING = '1000.00';

export async function ensureDemoUsers(pool: pg.Pool): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const user of DEMO_USERS) {
    const found = await ledger.credentials(pool, user.username);
    const id =
      found?.user_id ?? (await ledger.createUser(pool, user.username, await hashPassword(user.password)));
    // The key makes the funding itself idempotent: one deposit per demo user, ever.
    await ledger.deposit(pool, id, DEMO_FUNDING, 'demo-funding');
    ids.set(user.username, id);
  }
  return ids;
}
