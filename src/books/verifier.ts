// The independent verifier: reads every entry and wallet head in one snapshot and recomputes each chain outside
// the database, reporting the problems wallet.verify() reports, in its order and with its names.
import { Decimal } from 'decimal.js';
import pg from 'pg';
import { canonicalTime, entryHash, genesis } from './canonical.js';

export type ProblemName =
  | 'altered_entry'
  | 'missing_entry'
  | 'duplicate_entry'
  | 'head_mismatch'
  | 'balance_mismatch';

export interface Problem {
  userId: string;
  entry: string | null;
  transactionId: string | null;
  problem: ProblemName;
}

export interface VerifyResult {
  problems: Problem[];
  entries: number;
  wallets: number;
}

interface EntryRow {
  user_id: string;
  entry: string;
  transaction_id: string;
  kind: string;
  counterparty_id: string | null;
  amount: string;
  balance_after: string;
  created_at: string;
  hash: string; // bytea as \x...
}
interface LastEntry {
  entry: string;
  transactionId: string;
  hash: string;
  balanceAfter: string;
}

const FETCH = 10_000;
// Every value as PostgreSQL's own text: nothing is parsed into a JS number or Date on the way.
const asText = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;
const hex = (bytea: string) => Buffer.from(bytea.slice(2), 'hex');

export async function verifyChains(
  url: string,
  opts: { userId?: string; role?: string } = {},
): Promise<VerifyResult> {
  const settings = ['-c TimeZone=UTC', '-c DateStyle=ISO', '-c bytea_output=hex'];
  if (opts.role) settings.push(`-c role=${opts.role}`);
  const client = new pg.Client({ connectionString: url, options: settings.join(' '), types: asText });
  await client.connect();
  const problems: Problem[] = [];
  const last = new Map<string, LastEntry>();
  let entries = 0;
  try {
    // One snapshot for entries and heads: a movement committing meanwhile is in both or in neither.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(
      `DECLARE chain NO SCROLL CURSOR FOR
         SELECT user_id, entry, transaction_id, kind, counterparty_id, amount, balance_after, created_at, hash
           FROM wallet.entries WHERE $1::bigint IS NULL OR user_id = $1::bigint ORDER BY user_id, entry`,
      [opts.userId ?? null],
    );
    let user: string | null = null;
    let previousEntry = 0n;
    let previousHash: Buffer = Buffer.alloc(0);
    for (;;) {
      const { rows } = await client.query<EntryRow>(`FETCH ${FETCH} FROM chain`);
      for (const r of rows) {
        entries++;
        if (r.user_id !== user) {
          user = r.user_id;
          previousEntry = 0n;
          previousHash = genesis(user);
        }
        const n = BigInt(r.entry);
        const stored = hex(r.hash);
        let problem: ProblemName | null = null;
        if (n === previousEntry) problem = 'duplicate_entry';
        else if (n !== previousEntry + 1n) problem = 'missing_entry';
        else {
          const recomputed = entryHash(previousHash, {
            userId: r.user_id,
            entry: r.entry,
            transactionId: r.transaction_id,
            kind: r.kind,
            counterpartyId: r.counterparty_id,
            amount: r.amount,
            balanceAfter: r.balance_after,
            createdAt: canonicalTime(r.created_at),
          });
          if (!recomputed.equals(stored)) problem = 'altered_entry';
        }
        if (problem)
          problems.push({ userId: r.user_id, entry: r.entry, transactionId: r.transaction_id, problem });
        previousEntry = n;
        previousHash = stored;
        last.set(r.user_id, {
          entry: r.entry,
          transactionId: r.transaction_id,
          hash: r.hash,
          balanceAfter: r.balance_after,
        });
      }
      if (rows.length < FETCH) break;
    }
    const heads = await client.query<{
      user_id: string;
      entries: string;
      head_hash: string | null;
      balance: string;
    }>(
      'SELECT user_id, entries, head_hash, balance FROM wallet.wallets WHERE $1::bigint IS NULL OR user_id = $1::bigint',
      [opts.userId ?? null],
    );
    await client.query('COMMIT');
    for (const w of heads.rows) {
      const l = last.get(w.user_id);
      if (w.entries !== (l?.entry ?? '0') || w.head_hash !== (l?.hash ?? null)) {
        problems.push({
          userId: w.user_id,
          entry: w.entries,
          transactionId: l?.transactionId ?? null,
          problem: 'head_mismatch',
        });
      }
      if (!new Decimal(w.balance).equals(new Decimal(l?.balanceAfter ?? '0'))) {
        problems.push({
          userId: w.user_id,
          entry: l?.entry ?? null,
          transactionId: l?.transactionId ?? null,
          problem: 'balance_mismatch',
        });
      }
    }
    return { problems: problems.sort(byUserEntryProblem), entries, wallets: heads.rowCount ?? 0 };
  } finally {
    await client.end();
  }
}

// wallet.verify()'s order: user, entry (none last), problem name.
function byUserEntryProblem(a: Problem, b: Problem): number {
  const big = (x: string | null) => (x === null ? null : BigInt(x));
  const cmp = (x: bigint | null, y: bigint | null) =>
    x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1;
  return (
    cmp(big(a.userId), big(b.userId)) ||
    cmp(big(a.entry), big(b.entry)) ||
    (a.problem < b.problem ? -1 : a.problem > b.problem ? 1 : 0)
  );
}

export function describeProblem(p: Problem): string {
  const where = p.entry === null ? '' : ` entry ${p.entry}`;
  const tx = p.transactionId === null ? '' : ` (transaction ${p.transactionId})`;
  return `wallet ${p.userId}${where}${tx}: ${p.problem}`;
}
