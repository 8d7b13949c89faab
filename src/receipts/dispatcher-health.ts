// What the dispatcher is doing, for operators: starting, or failing with a reason. While failing it backs off
// (exponential, capped) and logs once per change of state, not once per receipt or per attempt.
import { dispatcherFailures } from '../metrics/names.js';
import type { Logger } from './log.js';

export type FailureKind = 'database' | 'temporal' | 'start';

export type DispatcherState =
  | { status: 'starting' }
  | {
      status: 'failing';
      kind: FailureKind;
      reason: string;
      since: Date;
      attempts: number;
      retryInMs: number;
    };

const FAILING: Record<FailureKind, string> = {
  database: 'cannot reach the database; receipts wait until it is back',
  temporal: 'Temporal unreachable or not answering in time; receipts stay pending until it answers',
  start: 'cannot start receipt workflows; receipts stay pending, retrying with backoff',
};
const RECOVERED: Record<FailureKind, string> = {
  database: 'database reachable again',
  temporal: 'Temporal reachable again; starting pending receipts',
  start: 'receipt workflows start again',
};

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
}

export class DispatcherHealth {
  private current: DispatcherState = { status: 'starting' };

  constructor(
    private readonly log: Logger,
    private readonly backoff: BackoffOptions,
  ) {}

  state(): DispatcherState {
    return this.current;
  }

  /** Records a failed attempt; returns how long to wait before the next one. */
  failed(kind: FailureKind, reason: string): number {
    dispatcherFailures.inc({ kind });
    const previous = this.current.status === 'failing' ? this.current : undefined;
    const attempts = previous?.kind === kind ? previous.attempts + 1 : 1;
    const retryInMs = Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** (attempts - 1));
    if (previous?.kind !== kind) {
      const line = `${FAILING[kind]} (next try in ${retryInMs} ms, backing off to ${this.backoff.maxMs} ms): ${reason}`;
      if (kind === 'start') this.log.error(line);
      else this.log.warn(line);
    }
    const since = previous?.kind === kind ? previous.since : new Date();
    this.current = { status: 'failing', kind, reason, since, attempts, retryInMs };
    return retryInMs;
  }

  /** Something of this kind worked: if that was what failed, say once that it is back. */
  succeeded(...kinds: FailureKind[]): void {
    if (this.current.status !== 'failing' || !kinds.includes(this.current.kind)) return;
    this.log.info(RECOVERED[this.current.kind]);
    this.current = { status: 'starting' };
  }
}
