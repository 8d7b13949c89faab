// A bank workload in the spirit of Jepsen's bank test: clients move random amounts between accounts while
// readers watch balances. Every transfer carries an Idempotency-Key and is retried with the same key until
// it gets a definite answer, as a careful client would: so every request's fate is known afterwards.
import { Decimal } from 'decimal.js';
import type { Random } from '../helpers/random.js';
import type { BankUser } from './system.js';

export interface TransferRecord {
  key: string;
  from: number;
  to: number;
  amount: string;
  status: number; // the definite answer: 201 or a 4xx
  code?: string;
  transactionId?: number;
  attempts: number;
}

export interface WorkloadResult {
  transfers: TransferRecord[];
  reads: number;
  negativeSeen: string[];
  unexpected: string[]; // answers no client should ever get (5xx other than 503, malformed bodies, ...)
  retries: number;
  /** Transfer attempts answered 503, and attempts that got no HTTP answer (refused, reset, timed out). */
  unavailable: number;
  connectionErrors: number;
  firstSuccessAfter: (t: number) => number | undefined;
  /** 201s answered between two instants (ms since the epoch). */
  successesBetween: (from: number, to: number) => number;
}

export interface WorkloadOptions {
  apiUrl: () => string;
  users: BankUser[];
  random: Random;
  clients: number;
  readers: number;
  seconds: number;
  hotShare?: number; // share of transfers leaving users[0]
  /** Mean pause between one client's transfers. Receipts render at ~10/s on 2 cores, transfers commit at
   *  thousands/s: unpaced, 30 s of transfers would leave an hour of rendering before the backlog drains. */
  thinkMs: number;
  label: string;
  /** Keeps the clients going past `seconds` while this says so (e.g. until a fault has healed). */
  keepGoing?: () => boolean;
}

const RETRYABLE = new Set([409, 502, 503, 504]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runWorkload(opts: WorkloadOptions): Promise<WorkloadResult> {
  const transfers: TransferRecord[] = [];
  const successTimes: number[] = [];
  const negativeSeen: string[] = [];
  const unexpected: string[] = [];
  let reads = 0;
  let retries = 0;
  let unavailable = 0;
  let connectionErrors = 0;
  const end = Date.now() + opts.seconds * 1000;
  const going = () => Date.now() < end || (opts.keepGoing?.() ?? false);
  const { random, users } = opts;

  async function send(record: TransferRecord, from: BankUser): Promise<void> {
    const giveUpAt = Date.now() + 120_000; // a fault heals well within this; past it the test fails
    for (;;) {
      record.attempts++;
      try {
        const response = await fetch(`${opts.apiUrl()}/api/wallet/transfer/`, {
          method: 'POST',
          headers: {
            authorization: from.authorization,
            'content-type': 'application/json',
            'idempotency-key': record.key,
          },
          body: JSON.stringify({ receiver_id: record.to, amount: record.amount }),
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
        if (!RETRYABLE.has(response.status)) {
          record.status = response.status;
          record.code = body?.code as string | undefined;
          if (response.status === 201) {
            record.transactionId = body?.transaction_id as number;
            successTimes.push(Date.now());
          } else if (response.status !== 422) {
            unexpected.push(`${record.key}: ${response.status} ${JSON.stringify(body)}`);
          }
          return;
        }
        if (response.status === 503) unavailable++;
      } catch {
        // connection refused or reset: the API is down or restarting; the key makes the retry safe
        connectionErrors++;
      }
      if (Date.now() > giveUpAt) {
        unexpected.push(`${record.key}: no definite answer after ${record.attempts} attempts`);
        return;
      }
      retries++;
      await sleep(100 + random.int(200));
    }
  }

  async function client(index: number) {
    for (let i = 0; going(); i++) {
      const from = opts.hotShare && random.next() < opts.hotShare ? users[0] : random.pick(users);
      let to = random.pick(users);
      while (to === from) to = random.pick(users);
      if (!from || !to) throw new Error('no users');
      const amount = new Decimal(1 + random.int(5000)).div(100).toFixed(2);
      const record: TransferRecord = {
        key: `${opts.label}-${index}-${i}`,
        from: from.id,
        to: to.id,
        amount,
        status: 0,
        attempts: 0,
      };
      transfers.push(record);
      await send(record, from);
      await sleep(random.int(2 * opts.thinkMs));
    }
  }

  async function reader() {
    while (going()) {
      const user = random.pick(users);
      try {
        const response = await fetch(`${opts.apiUrl()}/api/wallet/balance/`, {
          headers: { authorization: user.authorization },
          signal: AbortSignal.timeout(5000),
        });
        if (response.status === 200) {
          const body = (await response.json()) as { balance: string };
          reads++;
          if (new Decimal(body.balance).isNegative()) negativeSeen.push(`${user.username}: ${body.balance}`);
        } else if (!RETRYABLE.has(response.status)) {
          unexpected.push(`balance read: ${response.status}`);
        }
      } catch {
        await sleep(100);
      }
    }
  }

  await Promise.all([
    ...Array.from({ length: opts.clients }, (_, i) => client(i)),
    ...Array.from({ length: opts.readers }, () => reader()),
  ]);
  return {
    transfers,
    reads,
    negativeSeen,
    unexpected,
    retries,
    unavailable,
    connectionErrors,
    firstSuccessAfter: (t) => successTimes.filter((s) => s >= t).sort((a, b) => a - b)[0],
    successesBetween: (from, to) => successTimes.filter((s) => s >= from && s <= to).length,
  };
}
