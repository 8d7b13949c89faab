// The bank workload against the running system: 16 clients, 20 users: run.users, concurrent balance reads; a uniform
// run and a hot-wallet run. BANK_SECONDS sets the length (npm run test:soak runs it long).
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../helpers/random.js';
import { checkRun, lastTransactionId } from './checker.js';
import { useSystem } from './system.js';
import { runWorkload } from './workload.js';

const SECONDS = Number(process.env.BANK_SECONDS ?? 30);
const USERS = 20;
const THINK_MS = Number(process.env.BANK_THINK_MS ?? 1000);
const FUNDING = '1000.00';

const run = useSystem(USERS, FUNDING);

describe.each([
  { label: 'uniform', hotShare: 0 },
  { label: 'hot-wallet', hotShare: 0.8 },
])('bank workload, $label', ({ label, hotShare }) => {
  it(`keeps the books for ${SECONDS} s of concurrent transfers and reads`, async () => {
    const before = await lastTransactionId(run.system.db());
    const random = seededRandom(`bank-${label}`);
    const started = Date.now();
    const result = await runWorkload({
      apiUrl: () => run.system.apiUrl,
      users: run.users,
      random,
      clients: 16,
      readers: 4,
      thinkMs: THINK_MS,
      seconds: SECONDS,
      hotShare,
      label: `${label}-${random.seed}`,
    });
    const elapsed = (Date.now() - started) / 1000;
    const { report, drain, receiptProblems } = await checkRun(
      run.system.db(),
      run.system.temporalAddress,
      result,
      run,
      before,
    );
    console.log(
      `bank ${label}: seed=${random.seed} clients=16 users=${USERS} seconds=${elapsed.toFixed(1)} ` +
        `transfers=${result.transfers.length} committed=${report.committed} rejected=${report.rejected} ` +
        `tps=${(report.committed / elapsed).toFixed(0)} retries=${result.retries} reads=${result.reads} ` +
        `negative_seen=${result.negativeSeen.length} problems=${report.problems.length} ` +
        `receipt_drain_s=${drain?.toFixed(1) ?? 'timeout'} receipt_problems=${receiptProblems.length}`,
    );
    expect(report.problems.slice(0, 10), run.system.tail()).toEqual([]);
    expect(report.committed).toBeGreaterThan(0);
    expect(drain, 'receipt backlog did not drain').toBeDefined();
    expect(receiptProblems).toEqual([]);
  });
});
