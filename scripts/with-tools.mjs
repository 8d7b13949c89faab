#!/usr/bin/env node
// Usage: node scripts/with-tools.mjs <cmd> [args...]
//        node scripts/with-tools.mjs temporal [args...]   (`npm run temporal -- workflow list ...`)
// Runs a command with everything the project needs outside npm: fresh node_modules, Chromium (Puppeteer must
// not download its own here) and the Temporal CLI (the local server). `npm test` and `npm run dev` go
// through this, so a fresh clone needs no manual setup. WALLET_SKIP_TOOLS=1 skips the tool checks.
// `temporal` runs the project's Temporal CLI (installed into .tools/ if missing) against TEMPORAL_ADDRESS,
// by default the dev server of `npm run dev` (127.0.0.1:TEMPORAL_PORT).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
let [cmd, ...args] = process.argv.slice(2);
const temporalCli = cmd === 'temporal';
if (!cmd) {
  console.error('usage: node scripts/with-tools.mjs <cmd> [args...]');
  process.exit(2);
}

// (a) npm writes node_modules/.package-lock.json on every install: if it is older than package-lock.json,
// the lock file changed since (e.g. after a pull) and node_modules may be stale.
const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.error('with-tools: node_modules missing or older than package-lock.json: npm ci');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

// ENSURE_QUIET: the scripts speak only when they install something or fail.
const env = { ...process.env, ENSURE_QUIET: '1' };
// (b) Idempotent and quick when the tools are present; they install them otherwise.
if (env.WALLET_SKIP_TOOLS !== '1' || temporalCli) {
  const script = (name) => join(root, 'scripts', name);
  try {
    // Its stdout is a summary line for CI; progress and errors come on stderr.
    if (!temporalCli)
      execFileSync('bash', [script('ensure-chromium.sh')], {
        cwd: root,
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    // The temporal path is the last stdout line; its progress messages go to stderr.
    const out = execFileSync('bash', [script('ensure-temporal.sh')], {
      env,
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    env.TEMPORAL_CLI_PATH = out.trim().split('\n').pop();
  } catch (err) {
    console.error(`with-tools: a required tool is missing (see above): ${err.message}`);
    process.exit(1);
  }
  if (!temporalCli) env.CHROMIUM_PATH ||= '/usr/bin/chromium';
}
delete env.ENSURE_QUIET;
if (temporalCli) {
  cmd = env.TEMPORAL_CLI_PATH;
  // The CLI's own default is localhost:7233, which may resolve to ::1 where the dev server does not listen.
  env.TEMPORAL_ADDRESS ||= `127.0.0.1:${env.TEMPORAL_PORT || 7233}`;
}

// (c) Like `npx --no-install`: binaries come from node_modules/.bin only, never from a download.
env.PATH = [join(root, 'node_modules', '.bin'), env.PATH].join(delimiter);
const child = spawn(cmd, args, { stdio: 'inherit', env });
// Forward termination so servers the child started (Temporal, PostgreSQL) get their cleanup.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('error', (err) => {
  console.error(`with-tools: cannot run ${cmd}: ${err.message}`);
  process.exit(127);
});
// A child killed by a signal exits the shell way, 128 + signal number.
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
