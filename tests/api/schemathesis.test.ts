// schemathesis (PyPI) fuzzes the API from its own OpenAPI document with its checks (all of them by default in
// v4): no 5xx, every status, header, content type and body as documented, bad input rejected, auth enforced,
// undeclared methods refused.
// One check is excluded: positive_data_acceptance fails any 422 to schema-valid data, but a valid-looking
// transfer is rightly refused when the money is not there (insufficient_funds) or when the fuzzer reuses an
// Idempotency-Key with another body (idempotency_key_reused). Its expected-statuses setting would allow 422,
// but schemathesis 4.32.5 did not apply it from a config file (tried top level and per phase).
// Every failure it reports is judged from its event stream (tests/helpers/schemathesis-report.ts): the one
// kind dismissed is an ST201 whose request, as sent, was valid (its invalid part never reached the API).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiContext, createApiContext, FakeStatements, PASSWORD } from '../helpers/api.js';
import { seededRandom } from '../helpers/random.js';
import { judgeRun, type OpenApiDocument, type Verdict } from '../helpers/schemathesis-report.js';

const run = promisify(execFile);
let app: FastifyInstance;
let url: string;
let ctx: ApiContext;
let userId: number;
let username: string;
let st: string;
const statements = new FakeStatements();
let doc: OpenApiDocument;
let reports: string;

beforeAll(async () => {
  const out = execFileSync('bash', ['scripts/ensure-schemathesis.sh'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  st = out.trim().split('\n').pop() ?? '';
  ctx = await createApiContext();
  // Transaction 1 funds a payer; transaction 2 (2 is the ids' example in the OpenAPI document, which the
  // fuzzer tries) pays the fuzzed user, who may then refund it: the refund route is reached past its 404.
  const payer = await ctx.user('fuzz_payer', '1000000.00');
  ({ id: userId, username } = await ctx.user('fuzz'));
  await ctx.db.admin.query('SELECT * FROM wallet.transfer($1, $2, 1000000.00)', [payer.id, userId]);
  await ctx.user('fuzz_receiver');
  app = await ctx.build({ statements });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  doc = (await app.inject('/docs/json')).json();
  reports = await mkdtemp(path.join(os.tmpdir(), 'wallet-schemathesis-'));
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (reports) await rm(reports, { recursive: true, force: true });
});

/** The fuzzed user's transactions so far, and how many of them are refunds. */
async function movesOfFuzzedUser(): Promise<{ all: number; refunds: number }> {
  const { rows } = await ctx.db.admin.query(
    `SELECT count(*)::int AS all, (count(*) FILTER (WHERE kind = 'refund'))::int AS refunds
       FROM wallet.transactions WHERE initiator_id = $1`,
    [userId],
  );
  return rows[0] as { all: number; refunds: number };
}

/** One schemathesis run at a seed, judged; fails the test on any real finding. */
/** `books`: also require a refund and a statement PDF (transaction 2, the one refund the fuzzer finds, can be
 *  refunded in full only once per file: the first run's). */
async function fuzz(seed: number, books = false): Promise<Verdict> {
  const dir = path.join(reports, String(seed));
  const movesBefore = await movesOfFuzzedUser();
  const pdfsBefore = statements.started.length;
  const args = [
    'run',
    `${url}/docs/json`,
    '--url',
    url,
    '--exclude-checks',
    'positive_data_acceptance',
    '--auth',
    `${username}:${PASSWORD}`,
    '--max-examples',
    '30',
    '--seed',
    String(seed),
    // Hypothesis keeps failing examples in ./.hypothesis by default and replays them first in every later run,
    // whatever the seed: one false positive then fails every run after it. In memory, a run depends on its
    // seed alone (and still finds the failure of seed 194561176, which the 'none' setting does not).
    '--generation-database',
    ':memory:',
    '--workers',
    '1',
    '--request-timeout',
    '10',
    '--no-color',
    '--report',
    'ndjson',
    '--report-dir',
    dir,
    // The events must hold the credentials as sent, to replay a request exactly (a test user, a test password).
    '--output-sanitize',
    'false',
  ];
  const result = await run(st, args, {
    env: { ...process.env, PYTHONPATH: st.replace(/\/bin\/st$/, '') },
    maxBuffer: 1 << 26,
  }).then(
    (r) => ({ code: 0, output: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: e.code ?? 1,
      output: `${e.stdout}${e.stderr}`,
    }),
  );
  // Its own report ends in pytest's summary format ("=== 2 warnings in 70s ==="), which CI would take for
  // the test runner's summary (and read as no test run): a failure shows the report through the assertion,
  // a pass is one line of ours.
  const report = result.output.slice(-6000);
  // 1 is "checks failed"; anything else (usage error, crash) is a failure of the run itself.
  expect([0, 1], report).toContain(result.code);
  const events = (await readdir(dir)).filter((f) => f.endsWith('.ndjson'));
  expect(events, report).toHaveLength(1);
  const verdict = await judgeRun(path.join(dir, events[0] as string), doc);
  expect(verdict.findings, report).toEqual([]);
  // An exit code of 1 must be wholly explained by the dismissed reports.
  if (result.code === 1) expect(verdict.dismissed, report).not.toEqual([]);
  for (const d of verdict.dismissed) console.log(`schemathesis: dismissed ${d}`);
  const cases = /Test cases:\s*(\d+) generated/.exec(result.output)?.[1] ?? '?';
  console.log(`schemathesis: ${cases} generated cases, no real failure, seed ${seed}`);
  // A clean run proves little if every call bounced off auth: the fuzzed user must have moved money
  // (deposits, transfers, refunds: the funding above was the payer's) in this run, and the books' routes
  // must have been reached with valid input, not only refused: a refund made and a statement PDF asked for
  // (the fake starter records it).
  const moves = await movesOfFuzzedUser();
  const [made, refunds] = [moves.all - movesBefore.all, moves.refunds - movesBefore.refunds];
  const pdfs = statements.started.length - pdfsBefore;
  console.log(
    `schemathesis: ${made} transactions (${refunds} refunds), ${pdfs} statement PDFs asked, seed ${seed}`,
  );
  expect(made, 'the fuzzer made no authenticated transfer or deposit').toBeGreaterThan(0);
  if (books) {
    expect(refunds, 'the fuzzer made no refund').toBeGreaterThan(0);
    expect(pdfs, 'the fuzzer asked for no statement PDF').toBeGreaterThan(0);
  }
  return verdict;
}

describe('schemathesis against /docs/json', () => {
  it('finds no failure with all checks, at a rotating seed', async () => {
    await fuzz(seededRandom('schemathesis').seed, true);
  }, 600_000);

  it('seed 194561176: the ST201 whose negated query and header never reached the API is not a failure', async () => {
    // CI failed here on 71c2dae: GET /api/wallet/holds/ with the query {"before": 80, "": []} (the extra
    // key sends nothing) and Authorization removed (--auth puts it back): ?before=80 with credentials.
    const verdict = await fuzz(194561176);
    expect(verdict.dismissed.join('\n')).toMatch(
      /ST201 .* at GET http:\/\/[^ ]+\/api\/wallet\/holds\/\?before=80:/,
    );
  }, 600_000);
});
