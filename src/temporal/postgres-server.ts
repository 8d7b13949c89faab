// The production shape run here: the real Temporal server (built by scripts/ensure-temporal-server.sh) on a
// PostgreSQL of its own (an embedded one), with the SQL visibility store that operators' searches use.
// docker-compose.yml runs the same shape from images; tests and bench:receipts run it with BENCH_TEMPORAL /
// SYSTEM_TEMPORAL=postgres to measure and prove what the dev server (SQLite) cannot.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../db/embedded.js';
import { findFreeLowPort, findFreePort } from '../net/free-port.js';
import type { DevServer } from './dev-server.js';
import { renderServerConfig } from './postgres-server-config.js';
import { superviseServer } from './supervise-server.js';

const ENSURE_SCRIPT = fileURLToPath(new URL('../../scripts/ensure-temporal-server.sh', import.meta.url));
const STOP_GRACE_MS = 10_000;

/** The folder with temporal-server, temporal-sql-tool and schema/: built on first use (minutes, once). */
export function resolveTemporalServerTools(): string {
  const out = execFileSync('bash', [ENSURE_SCRIPT], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const last = out.trim().split('\n').pop();
  if (!last) throw new Error('scripts/ensure-temporal-server.sh printed no folder');
  return last;
}

export interface PostgresTemporal extends DevServer {
  /** Temporal's own PostgreSQL (not the ledger's): its CPU counts as Temporal's in benchmarks. */
  postgres: EmbeddedServer;
  /** The server's Prometheus metrics (the same endpoint docker-compose's Prometheus scrapes). */
  metricsUrl: string;
}

/** Creates both databases and applies every versioned schema, as temporal-sql-tool does for auto-setup. */
function setupSchemas(tools: string, port: number) {
  const sqlTool = path.join(tools, 'temporal-sql-tool');
  for (const [database, schema] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(port), '-u', 'postgres'];
    const run = (args: string[]) =>
      execFileSync(sqlTool, [...base, '--pw', 'postgres', '--db', database, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    run(['create-database']);
    run(['setup-schema', '-v', '0.0']);
    run(['update-schema', '-d', path.join(tools, 'schema/postgresql/v12', schema, 'versioned')]);
  }
}

/**
 * Starts Temporal's PostgreSQL in `dir`/pg, sets up its schemas, starts the server on a free frontend port and
 * creates the `default` namespace. Search attributes are left to the worker, as on a fresh cluster.
 */
export async function startTemporalOnPostgres(opts: {
  dir: string;
  port?: number;
}): Promise<PostgresTemporal> {
  const tools = resolveTemporalServerTools();
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(opts.dir, 'pg'),
    port: await findFreePort(),
  });
  let child: ChildProcess | undefined;
  try {
    setupSchemas(tools, postgres.port);
    const ports = {
      frontend: opts.port ?? (await findFreePort()),
      frontendHttp: await findFreePort(),
      history: await findFreePort(),
      matching: await findFreePort(),
      worker: await findFreePort(),
      // Ringpop ports are stored as smallint in cluster_membership: below 32768.
      membership: [
        await findFreeLowPort(),
        await findFreeLowPort(),
        await findFreeLowPort(),
        await findFreeLowPort(),
      ],
      metrics: await findFreePort(),
    };
    const configFile = path.join(opts.dir, 'temporal.yaml');
    const dynamicConfigFile = path.join(opts.dir, 'dynamic.yaml');
    await writeFile(dynamicConfigFile, '{}\n');
    await writeFile(
      configFile,
      renderServerConfig({ postgresPort: postgres.port, ports, dynamicConfigFile }),
    );
    child = spawn(
      path.join(tools, 'temporal-server'),
      ['--config-file', configFile, '--allow-no-auth', 'start'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const server = await superviseServer(child, {
      address: `127.0.0.1:${ports.frontend}`,
      what: 'temporal-server',
      stopGraceMs: STOP_GRACE_MS,
    });
    await createDefaultNamespace(server.address);
    return {
      ...server,
      postgres,
      metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
      stop: async () => {
        await server.stop();
        await postgres.stop();
      },
    };
  } catch (err) {
    child?.kill('SIGKILL');
    await postgres.stop();
    throw err;
  }
}

async function createDefaultNamespace(address: string) {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({
      namespace: 'default',
      workflowExecutionRetentionPeriod: msToTs('3 days'),
    });
  } catch (err) {
    if (!/already exists|AlreadyExists/i.test(String(err))) throw err;
  } finally {
    await connection.close();
  }
  // The namespace registry refreshes on an interval: wait until the frontend knows the new namespace.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const c = await Connection.connect({ address });
    try {
      await c.workflowService.describeNamespace({ namespace: 'default' });
      await c.workflowService.listWorkflowExecutions({ namespace: 'default', pageSize: 1 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`namespace default not usable after 60 s: ${err}`);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await c.close();
    }
  }
}

/** Whether the production-shape server is built, or can be (Go on PATH): tests skip without it, except in CI. */
export function temporalServerBuildable(): boolean {
  const built = path.join(path.dirname(ENSURE_SCRIPT), '..', '.tools/temporal-server/temporal-server');
  if (existsSync(built)) return true;
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
