// The real entry points as processes: `npm run cli -- user ...` and `npm start`, with DATABASE_URL and with
// the embedded PostgreSQL, including shutdown on SIGTERM.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { embeddedServerUrl } from '../../src/db/embedded.js';
import { findFreePort } from '../../src/net/free-port.js';
import { type ApiContext, basic, createApiContext } from '../helpers/api.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let ctx: ApiContext;

beforeAll(async () => {
  ctx = await createApiContext();
});

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...extra };
  if (!('DATABASE_URL' in extra)) delete env.DATABASE_URL;
  return env;
}

function cli(args: string[], input: string | null, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (input === null) child.stdin.end();
    else child.stdin.end(input);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function startServer(env: NodeJS.ProcessEnv, port: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { child, url, output: () => output };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

const balanceStatus = async (url: string, user: string, password: string) =>
  (await fetch(`${url}/api/wallet/balance/`, { headers: { authorization: basic(user, password) } })).status;

describe('with DATABASE_URL', () => {
  it('creates users and sets passwords from stdin; the server logs them in and stops cleanly', async () => {
    const env = baseEnv({ DATABASE_URL: ctx.db.url, TEMPORAL_ADDRESS: `127.0.0.1:${await findFreePort()}` });
    const name = `cli_${process.pid}`;
    const created = await cli(['user', 'create', name], 'first pass\n', env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(new RegExp(`created user "${name}" with id \\d+`));
    const again = await cli(['user', 'create', name.toUpperCase()], 'x\n', env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    const changed = await cli(['user', 'password', name], 'second pass\r\nignored line\n', env);
    expect(changed.code, changed.stderr).toBe(0);
    expect((await cli(['user', 'password', `ghost_${process.pid}`], 'x\n', env)).code).toBe(1);
    expect((await cli(['user', 'create', `empty_${process.pid}`], null, env)).stderr).toContain(
      'no password',
    );
    expect((await cli(['user', 'create', `blank_${process.pid}`], '\n', env)).stderr).toContain('empty');
    expect((await cli(['user', 'remove', name], null, env)).code).toBe(2);
    expect((await cli(['user', 'create'], null, env)).code).toBe(2);

    const port = await findFreePort();
    const server = await startServer({ ...env, PORT: String(port) }, port);
    expect(await balanceStatus(server.url, name, 'second pass')).toBe(200);
    expect(await balanceStatus(server.url, name, 'first pass')).toBe(401);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await exited(server.child), server.output()).toBe(0);
  });
});

describe('with the embedded PostgreSQL', () => {
  it('the CLI and the server start it (and migrate), and the CLI joins a running one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-api-embedded-'));
    try {
      const env = baseEnv({
        WALLET_DATA_DIR: path.join(dir, 'data'),
        EMBEDDED_PG_PORT: String(await findFreePort()),
        TEMPORAL_ADDRESS: `127.0.0.1:${await findFreePort()}`,
      });
      const created = await cli(['user', 'create', 'dave'], 'dave pass 1\n', env);
      expect(created.code, created.stderr).toBe(0);
      const port = await findFreePort();
      const server = await startServer({ ...env, PORT: String(port) }, port);
      expect(await balanceStatus(server.url, 'dave', 'dave pass 1')).toBe(200);
      const changed = await cli(['user', 'password', 'dave'], 'dave pass 2\n', env);
      expect(changed.code, changed.stderr).toBe(0);
      expect(await balanceStatus(server.url, 'dave', 'dave pass 2')).toBe(200);
      const ready = await (await fetch(`${server.url}/ready`)).json();
      expect(ready).toMatchObject({ database: 'up', temporal: 'down', status: 'degraded' });
      server.child.kill('SIGTERM');
      expect(await exited(server.child), server.output()).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('npm start beside npm run dev (no DATABASE_URL)', () => {
  it('uses the embedded PostgreSQL that is already running, and leaves it running when it stops', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-api-join-'));
    const pgPort = await findFreePort();
    const env = baseEnv({
      WALLET_DATA_DIR: path.join(dir, 'data'),
      EMBEDDED_PG_PORT: String(pgPort),
      TEMPORAL_ADDRESS: `127.0.0.1:${await findFreePort()}`,
    });
    // What `npm run dev` opens: the embedded server on EMBEDDED_PG_PORT with its wallet database, from the
    // same data folder (a second server there could not start).
    const running = await openDatabase(loadConfig(env));
    try {
      expect((await cli(['user', 'create', 'erin'], 'erin pass 1\n', env)).code).toBe(0);
      const port = await findFreePort();
      const server = await startServer({ ...env, PORT: String(port) }, port);
      expect(await balanceStatus(server.url, 'erin', 'erin pass 1')).toBe(200);
      server.child.kill('SIGTERM');
      expect(await exited(server.child), server.output()).toBe(0);
      const psql = spawnSync('psql', ['-XAtc', 'SELECT 1', embeddedServerUrl(pgPort, 'wallet')], {
        encoding: 'utf8',
      });
      expect(psql.stdout.trim(), psql.stderr).toBe('1');
    } finally {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('prints one line saying what to set when the port holds something else', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-api-taken-'));
    const squatter = createServer(() => undefined); // accepts and never answers: not PostgreSQL
    const pgPort = await findFreePort();
    await new Promise<void>((resolve) => squatter.listen(pgPort, '127.0.0.1', resolve));
    try {
      const env = baseEnv({
        WALLET_DATA_DIR: path.join(dir, 'data'),
        EMBEDDED_PG_PORT: String(pgPort),
        TEMPORAL_ADDRESS: `127.0.0.1:${await findFreePort()}`,
      });
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.resume();
      expect(await exited(child)).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([
        `cannot start: the embedded PostgreSQL did not start on 127.0.0.1:${pgPort} (port in use? ` +
          'set EMBEDDED_PG_PORT, or point DATABASE_URL at a server)',
      ]);
    } finally {
      squatter.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
