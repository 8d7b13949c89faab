// The README's examples, run as pasted, in document order, against a fresh `npm run dev`; what they print is
// compared with what the README says they print.
//
// Which blocks run: a fenced block tagged `sh` or `sql` on the line right after an HTML comment that starts
// with `<!-- readme-example` (the rest of the comment is free text):
//
//   <!-- readme-example -->
//   ```sh
//   curl -s -u $U $API/api/wallet/balance/
//   # 200 {"user_id":1,"username":"alice","balance":"950.00"}
//   ```
//
// - sh: each command (with its `\` continuations) runs in bash from the project folder. Lines that only set
//   variables (`U=...; API=...`) run before every later command. `http://127.0.0.1:3000` becomes the test's
//   API. The `#` lines right after a command are what it prints: for curl, `# <status>[ or <status>] <body>`,
//   where a body starting with `{` or `[` (continued on further `#` lines) must match, `...` standing for
//   anything, and any other text is prose; for other commands each such line must match a line of output.
//   A command without them must exit 0 (curl: answer 2xx). A `#` line after a blank line is a comment.
// - sql: each statement (up to its `;`) runs through `psql -c` on the dev database; the `--` lines right
//   after it are psql's output (ERROR/DETAIL included), compared cell by cell, spacing, separator lines and
//   the "(n rows)" footer ignored; a timestamp matches any timestamp and `...` any cell.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DevStack } from './dev-stack.js';
import { curlExpectation, type Example, pattern, psqlDifferences, readmeExamples } from './readme-blocks.js';

vi.setConfig({ testTimeout: 120_000 });

const readme = readmeExamples(readFileSync('README.md', 'utf8'));
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

function sh(example: Example): { status: number | null; output: string } {
  const script = [
    ...readme.setup,
    // The status comes last on its own line; a command's own -w (given later) wins, as curl takes the last.
    `curl() { command curl -w '\\n%{http_code}\\n' "$@"; }`,
    example.command,
  ]
    .join('\n')
    .replaceAll(README_API, dev.apiUrl);
  const run = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, TEMPORAL_ADDRESS: '', TEMPORAL_PORT: String(dev.ports.temporal) },
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

function checkCurl(example: Example, output: string) {
  const lines = output.trimEnd().split('\n');
  const status = Number(lines.pop());
  const body = lines.join('\n').trim();
  const want = curlExpectation(example.expected);
  if (!want) {
    expect(status, body).toBeGreaterThanOrEqual(200);
    expect(status, body).toBeLessThan(300);
    return;
  }
  expect(want.statuses, body).toContain(status);
  if (want.body) expect(body).toMatch(want.body);
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

describe('README examples, as pasted, in order', () => {
  it('finds the marked blocks: curl and psql examples with their output', () => {
    const kinds = readme.examples.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'sh').length).toBeGreaterThanOrEqual(10);
    expect(kinds.filter((k) => k === 'sql').length).toBeGreaterThanOrEqual(6);
    expect(readme.setup.join('\n')).toContain(README_API);
  });

  for (const example of readme.examples) {
    const title = example.command.split('\n')[0]?.slice(0, 90);
    it(`README.md:${example.line} ${title}`, () => {
      if (example.kind === 'sql') {
        expect(psqlDifferences(psql(example.command), example.expected)).toEqual([]);
        return;
      }
      const { status, output } = sh(example);
      expect(status, output).toBe(0);
      if (/^curl\b/.test(example.command)) checkCurl(example, output);
      else checkCommand(example, output);
    });
  }
});
