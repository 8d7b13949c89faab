// Database pool gauges, read from pg's own counters when Prometheus scrapes (nothing runs between scrapes),
// and the count of failed database calls by SQLSTATE class (src/db/ledger.ts reports every failure here).
import type pg from 'pg';
import { Gauge } from 'prom-client';
import { apiRegistry, databaseErrors, POOL_METRICS, poolLabels, workerRegistry } from './names.js';

export type PoolName = 'api' | 'worker';
const pools = new Map<PoolName, pg.Pool>();

function poolGauge(metric: { name: string; help: string }, read: (pool: pg.Pool) => number) {
  return new Gauge({
    ...metric,
    labelNames: poolLabels,
    registers: [apiRegistry, workerRegistry],
    collect() {
      this.reset();
      for (const [name, pool] of pools) this.set({ pool: name }, read(pool));
    },
  });
}

poolGauge(POOL_METRICS.total, (p) => p.totalCount);
poolGauge(POOL_METRICS.idle, (p) => p.idleCount);
poolGauge(POOL_METRICS.waiting, (p) => p.waitingCount);
poolGauge(POOL_METRICS.max, (p) => p.options.max ?? 10);

/** Reports this pool's gauges under `name` from now on (the last pool given a name wins). */
export function trackPool(name: PoolName, pool: pg.Pool): void {
  pools.set(name, pool);
}

/** Called with every failed database call: counts it by SQLSTATE class. */
export function countDatabaseError(error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  databaseErrors.inc({ sqlstate_class: sqlstate ? sqlstate.slice(0, 2) : 'connection' });
}
