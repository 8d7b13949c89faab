// `npm run dev`: the whole system on this machine, on its embedded defaults, starting only what is missing:
// PostgreSQL (unless DATABASE_URL), migrations, a Temporal dev server with its Web UI (unless
// TEMPORAL_ADDRESS), the worker with its dispatcher, the API, and the demo users. Ctrl-C stops all of it.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { resolveTemporalCli } from '../temporal/cli-path.js';
import { startTemporalDevServer } from '../temporal/dev-server.js';
import { banner } from './banner.js';
import { type Child, startChild, waitForHttp } from './children.js';
import { ensureDemoUsers } from './demo-users.js';
import { assertPortsFree, type PortNeed } from './ports.js';

const log = (line: string) => console.log(`[dev] ${line}`);
const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
let stopping = false;

async function shutdown(code: number): Promise<void> {
  // One Ctrl-C reaches every process of the group, and npm and tsx relay it once more: the repeats must not
  // cut the orderly stop short.
  if (stopping) return;
  stopping = true;
  log('stopping...');
  for (const { name, stop } of stops.reverse()) {
    await stop().catch((e) => log(`${name} did not stop cleanly: ${e}`));
  }
  log('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

function watch(child: Child) {
  stops.push({ name: child.name, stop: child.stop });
  void child.exited.then((code) => {
    if (!stopping) {
      log(`${child.name} exited unexpectedly (code ${code}); stopping everything`);
      void shutdown(1);
    }
  });
}

async function main() {
  const config = loadConfig();
  const { temporalPort, temporalUiPort } = config;
  const externalTemporal = config.temporalAddressGiven ? config.temporalAddress : undefined;
  const needs: PortNeed[] = [{ port: config.port, what: 'the API', variable: 'PORT' }];
  if (!config.databaseUrl) {
    needs.push({
      port: config.embeddedPgPort,
      what: 'the embedded PostgreSQL',
      variable: 'EMBEDDED_PG_PORT or DATABASE_URL',
    });
  }
  if (!externalTemporal) {
    needs.push({
      port: temporalPort,
      what: 'the Temporal dev server',
      variable: 'TEMPORAL_PORT or TEMPORAL_ADDRESS',
    });
    needs.push({ port: temporalUiPort, what: 'the Temporal Web UI', variable: 'TEMPORAL_UI_PORT' });
  }
  await assertPortsFree(needs);
  await mkdir(config.dataDir, { recursive: true });

  const db = await openDatabase(config);
  stops.push({ name: 'PostgreSQL', stop: db.stop });
  log(db.embedded ? `embedded PostgreSQL on 127.0.0.1:${config.embeddedPgPort}` : 'using DATABASE_URL');
  const applied = await migrate(db.url);
  if (applied.length) log(`migrations applied: ${applied.join(', ')}`);

  let temporalAddress = externalTemporal ?? '';
  let temporalUiUrl: string | undefined;
  if (!externalTemporal) {
    const server = await startTemporalDevServer({
      cliPath: resolveTemporalCli(config.temporalCliPath),
      port: temporalPort,
      uiPort: temporalUiPort,
      dbFile: path.resolve(config.dataDir, 'temporal.db'),
    });
    stops.push({ name: 'Temporal', stop: server.stop });
    temporalAddress = server.address;
    temporalUiUrl = server.uiUrl;
    log(`Temporal dev server on ${temporalAddress}`);
  }

  const pool = createPool({ url: db.url, max: 2 });
  const users = await ensureDemoUsers(pool).finally(() => pool.end());

  const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporalAddress };
  const worker = startChild('worker', 'src/worker.ts', env);
  watch(worker);
  const api = startChild('api', 'src/server.ts', { ...env, HOST: '127.0.0.1', PORT: String(config.port) });
  watch(api);
  const apiUrl = `http://127.0.0.1:${config.port}`;
  await waitForHttp(`${apiUrl}/health`, api);
  console.log(banner({ apiUrl, temporalUiUrl, temporalAddress, bobId: users.get('bob') ?? 2 }));
}

main().catch(async (error) => {
  console.error(`[dev] ${error instanceof ConfigError ? 'configuration: ' : ''}${error?.message ?? error}`);
  await shutdown(1);
});
