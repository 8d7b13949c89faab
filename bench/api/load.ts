// Helpers of the API benchmark: a seeded random source, the credential warm-up, and the SQL-only loop.
import type pg from 'pg';

// The seeded generator the tests use, so a benchmark replays from its printed seed the same way.
export { mulberry32 as random } from '../../tests/helpers/random.js';

/** Logs every user in once (GET balance), `concurrency` at a time, so the measured run has a warm cache. */
export async function warmUp(base: string, auth: string[], concurrency: number) {
  const started = performance.now();
  let nextIndex = 0;
  let ok = true;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nextIndex < auth.length) {
        const header = auth[nextIndex++] ?? '';
        const res = await fetch(`${base}/api/wallet/balance/`, { headers: { authorization: header } });
        await res.arrayBuffer();
        ok &&= res.status === 200;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, ok };
}

/** wallet.transfer called directly, `loops` at a time over the pool, for `ms`: the ceiling for the API. */
export async function sqlTransferTps(
  pool: pg.Pool,
  users: { id: number }[],
  loops: number,
  ms: number,
  next: () => number,
) {
  const pick = () => users[Math.floor(next() * users.length)]?.id ?? 1;
  const deadline = performance.now() + ms;
  let done = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < deadline) {
        const from = pick();
        let to = pick();
        if (to === from) to = from === 1 ? 2 : 1;
        try {
          await pool.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [from, to, '0.01']);
          done++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { tps: done / ((performance.now() - started) / 1000), errors };
}
