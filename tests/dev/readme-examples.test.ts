// The examples of README.md and of the docs/ pages, run as pasted, in reading order (README.md, then
// DOCUMENTS below), against one fresh `npm run dev`; what they print is compared with what the page says.
// So the ids and balances a page shows are the ones a newcomer gets who runs the pages in that order.
//
// Which blocks run: a fenced block tagged `sh` or `sql` on the line right after an HTML comment that starts
// with `<!-- readme-example` (the rest of the comment is free text):
//
//   <!-- readme-example -->
//   ```sh
//   curl -s -u $U $API/api/wallet/balance/
//   # {"user_id":1,"username":"alice","balance":"950.00"}
//   ```
//
// - sh: each command (with its `\` continuations) runs in bash from the project folder. Lines that only set
//   variables (`U=...; API=...`) run before every later command. `http://127.0.0.1:3000` becomes the test's
//   API, `-p 54329` its PostgreSQL port. The `#` lines right after a command are what it prints: for curl, a JSON body (continued on
//   further `#` lines) that must match, `...` standing for anything; for curl's other output and for any
//   other command, each such line must match a line of output. A curl command without them must answer 2xx,
//   any command must exit 0. A `#` line after a blank line is a comment.
// - sql: each statement (up to its `;`) runs through `psql -c` on the dev database; the `--` lines right
//   after it are psql's output (ERROR/DETAIL included), compared cell by cell, spacing, separator lines and
//   the "(n rows)" footer ignored; a timestamp matches any timestamp and `...` any cell.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DevStack } from './dev-stack.js';
import { curlBody, type Example, pattern, psqlDifferences, readmeExamples } from './readme-blocks.js';

vi.setConfig({ testTimeout: 120_000 });

/** The pages after README.md, in the order their examples run (each page says what ran before it). */
const DOCUMENTS = ['README.md', 'docs/api.md', 'docs/dba.md', 'docs/operators.md', 'docs/books-api.md'];
const pages = DOCUMENTS.map((file) => ({ file, ...readmeExamples(readFileSync(file, 'utf8')) }));
const setup = pages.flatMap((page) => page.setup);
const README_API = 'http://127.0.0.1:3000';
let dev: DevStack;

beforeAll(async () => {
  dev = await DevStack.start();
  await dev.waitForBanner();
}, 240_000);

afterAll(async () => {
  if (dev && !dev.exited) {
    dev.interrupt();
    await dev.waitForExit().catch(() => undefined);
  }
  await dev?.remove();
});

function sh(example: Example): { status: number | null; stdout: string; stderr: string } {
  const script = [
    ...setup,
    // The status goes to stderr, apart from the body; a command's own -w (given later) wins, as curl takes
    // the last, and then no status is known.
    `curl() { command curl -w '%{stderr}HTTP_STATUS %{http_code}\\n' "$@"; }`,
    example.command,
  ]
    .join('\n')
    .replaceAll(README_API, dev.apiUrl)
    .replaceAll('-p 54329', `-p ${dev.ports.pg}`);
  const run = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    timeout: 60_000,
    // What a newcomer's shell has beside `npm run dev` on its default ports: `npm run cli` and `npm run temporal`
    // find this stack's PostgreSQL and Temporal as they would find the defaults (never the suite's database).
    env: {
      ...process.env,
      DATABASE_URL: '',
      EMBEDDED_PG_PORT: String(dev.ports.pg),
      WALLET_DATA_DIR: path.join(dev.dir, 'data'),
      TEMPORAL_ADDRESS: `127.0.0.1:${dev.ports.temporal}`,
      TEMPORAL_PORT: String(dev.ports.temporal),
    },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function checkCurl(example: Example, stdout: string, stderr: string) {
  const status = Number(/^HTTP_STATUS (\d+)$/m.exec(stderr)?.[1] ?? Number.NaN);
  const body = stdout.trim();
  const want = curlBody(example.expected);
  if (want) expect(body).toMatch(want);
  else if (example.expected.some((l) => l.trim() !== '')) checkCommand(example, stdout);
  else if (!Number.isNaN(status)) expect(status, body).toBeLessThan(300);
}

function checkCommand(example: Example, output: string) {
  const squeeze = (l: string) => l.trim().replace(/\s+/g, ' ');
  const got = output.split('\n').map(squeeze);
  for (const line of example.expected.map(squeeze).filter((l) => l !== '')) {
    expect(
      got.some((g) => pattern(line).test(g)),
      `no output line matches "${line}":\n${output}`,
    ).toBe(true);
  }
}

function psql(sql: string): string[] {
  const run = spawnSync(
    'psql',
    ['-X', '-h', '127.0.0.1', '-p', String(dev.ports.pg), '-U', 'postgres', '-d', 'wallet', '-c', sql],
    { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PGPASSWORD: 'postgres' } },
  );
  return `${run.stdout}${run.stderr}`.split('\n');
}

describe('README and docs examples, as pasted, in order', () => {
  it('finds the marked blocks: curl and psql examples with their output', () => {
    const kinds = pages.flatMap((page) => page.examples.map((e) => e.kind));
    expect(kinds.filter((k) => k === 'sh').length).toBeGreaterThanOrEqual(20);
    expect(kinds.filter((k) => k === 'sql').length).toBeGreaterThanOrEqual(10);
    for (const page of pages) expect(page.examples.length, page.file).toBeGreaterThan(0);
    expect(setup.join('\n')).toContain(README_API);
  });

  it('has the books among them: refunds, a balance at an instant, statements, the verifier (issue 22)', () => {
    const books =
      pages.find((page) => page.file === 'docs/books-api.md')?.examples.map((e) => e.command) ?? [];
    for (const shown of [/\/refund\//, /balance\/\?at=/, /\/statement\//, /statement\.pdf/, /cli -- verify/])
      expect(
        books.some((command) => shown.test(command)),
        String(shown),
      ).toBe(true);
  });

  for (const page of pages) {
    for (const example of page.examples) {
      const title = example.command.split('\n')[0]?.slice(0, 90);
      it(`${page.file}:${example.line} ${title}`, () => {
        if (example.kind === 'sql') {
          expect(psqlDifferences(psql(example.command), example.expected)).toEqual([]);
          return;
        }
        const { status, stdout, stderr } = sh(example);
        expect(status, `${stdout}${stderr}`).toBe(0);
        if (/^curl\b/.test(example.command)) checkCurl(example, stdout, stderr);
        else checkCommand(example, `${stdout}${stderr}`);
      });
    }
  }
});
