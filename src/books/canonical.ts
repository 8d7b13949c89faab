// The chain's canonical bytes and hashes, written from the specification in docs/books.md, not from the SQL:
// this is the second, independent implementation that the test vectors (tests/books/vectors.json) hold to
// the same answers as db/procedures/books.sql.
import { createHash } from 'node:crypto';

/** One entry as stored, every field as the database's text (money with two decimals, time in UTC). */
export interface EntryFields {
  userId: string;
  entry: string;
  transactionId: string;
  kind: string;
  counterpartyId: string | null;
  amount: string; // signed: "-50.00" for a debit
  balanceAfter: string;
  createdAt: string; // canonical: YYYY-MM-DDTHH:MM:SS.ffffffZ (see canonicalTime)
}

const sha256 = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** hash(0) of a wallet's chain. */
export function genesis(userId: string): Buffer {
  return sha256(Buffer.from(`genesis|${userId}`, 'utf8'));
}

const MONEY = /^-?\d+\.\d{2}$/;
const INTEGER = /^\d+$/;

/** The line whose UTF-8 bytes are hashed: user|entry|transaction|kind|counterparty or -|amount|balance|time. */
export function canonicalLine(e: EntryFields): string {
  for (const [name, value] of [
    ['user_id', e.userId],
    ['entry', e.entry],
    ['transaction_id', e.transactionId],
  ] as const) {
    if (!INTEGER.test(value)) throw new Error(`${name} ${value} is not a decimal integer`);
  }
  if (!MONEY.test(e.amount) || !MONEY.test(e.balanceAfter))
    throw new Error(`money must have exactly two decimals: ${e.amount}, ${e.balanceAfter}`);
  return [
    e.userId,
    e.entry,
    e.transactionId,
    e.kind,
    e.counterpartyId ?? '-',
    e.amount,
    e.balanceAfter,
    e.createdAt,
  ].join('|');
}

export function canonicalBytes(e: EntryFields): Buffer {
  return Buffer.from(canonicalLine(e), 'utf8');
}

/** hash(n) = sha256(hash(n-1) || canonical bytes of entry n). */
export function entryHash(previous: Buffer, e: EntryFields): Buffer {
  return sha256(previous, canonicalBytes(e));
}

const PG_UTC = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/;

/** PostgreSQL's ISO text of a timestamptz in UTC ("2026-11-30 23:59:59.5+00") as the canonical time
 *  ("2026-11-30T23:59:59.500000Z"): the session must run with TimeZone UTC and DateStyle ISO. */
export function canonicalTime(pgText: string): string {
  const m = PG_UTC.exec(pgText);
  if (!m) throw new Error(`not an ISO UTC timestamp between years 1000 and 9999: ${pgText}`);
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0')}Z`;
}
