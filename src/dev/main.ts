// `npm run dev`: the whole system on this machine, on its embedded defaults, starting only what is missing:
// PostgreSQL (unless DATABASE_URL), migrations, a Temporal dev server with its Web UI (unless
// TEMPORAL_ADDRESS), the worker with its dispatcher, the API, and the demo users. src/dev/terminal.ts starts
// it in a session of its own and relays Ctrl-C as stop requests over IPC; it stops in dependency order.
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
import { apiLines, type LineFormatter, workerLines } from './log-lines.js';
import { assertPortsFree, type PortNeed } from './ports.js';
import type { StopRequest } from './presses.js';

const log = (line: string) => console.log(`[dev] ${line}`);
// Each part with how to stop it in order, and how to stop it now (a second Ctrl-C).
const parts: Array<{ name: string; stop: () => Promise<void>; hurry: () => void }> = [];
let stopping = false;
let hurried = false;
// The worker's running renders get Temporal's 30 s shutdown grace, and a little more to close Chromium.
const WORKER_STOP_GRACE_MS = 40_000;

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(
    'stopping: API, worker (running receipts finish first), Temporal, PostgreSQL; Ctrl-C again to stop now',
  );
  // Reverse start order is dependency order: nothing stops while something still running needs it.
  for (const { name, stop } of parts.reverse()) {
    // One line per part once it is down: the order of the stop is visible (and tested).
    await stop().then(
      () => log(`${name} stopped`),
      (e) => log(`${name} did not stop cleanly: ${e}`),
    );
  }
  log('stopped');
  process.exit(code);
}

function stopNow(): void {
  if (hurried) return;
  hurried = true;
  log('stopping now');
  for (const part of parts) part.hurry();
  void shutdown(1);
}

function onStopRequest(request: StopRequest) {
  if (request === 'now') stopNow();
  else void shutdown(0);
}
process.on('message', (message: { stop?: StopRequest }) => {
  if (message?.stop) onStopRequest(message.stop);
});
process.on('disconnect', () => void shutdown(0)); // the terminal side is gone
// Run on its own (without terminal.ts), a signal asks for the orderly stop; repeats change nothing.
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

/** Prints a child's lines in their short form, with its name in front. */
function printer(name: string, format: LineFormatter) {
  return (line: string) => {
    const shown = format(line);
    if (shown !== undefined) console.log(`[${name}] ${shown}`);
  };
}

function watch(child: Child) {
  parts.push({ name: child.name, stop: child.stop, hurry: child.hurry });
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
  // Metrics are on in development, on their usual ports unless set: the banner prints their URLs.
  const metrics = {
    api: config.metricsPort || 9464,
    worker: config.workerMetricsPort || 9465,
    temporalSdk: config.temporalMetricsPort || 9466,
  };
  needs.push(
    { port: metrics.api, what: "the API's metrics", variable: 'METRICS_PORT' },
    { port: metrics.worker, what: "the worker's metrics", variable: 'WORKER_METRICS_PORT' },
    { port: metrics.temporalSdk, what: "the Temporal SDK's metrics", variable: 'TEMPORAL_METRICS_PORT' },
  );
  await assertPortsFree(needs);
  await mkdir(config.dataDir, { recursive: true });

  const db = await openDatabase(config);
  parts.push({ name: 'PostgreSQL', stop: db.stop, hurry: () => undefined }); // its stop is fast already
  log(db.embedded ? `embedded PostgreSQL on 127.0.0.1:${config.embeddedPgPort}` : 'using DATABASE_URL');
  const applied = await migrate(db.url);
  if (applied.length) log(`migrations applied: ${applied.join(', ')}`);
  if (stopping) return; // Ctrl-C during the start: start nothing more

  let temporalAddress = externalTemporal ?? '';
  let temporalUiUrl: string | undefined;
  if (!externalTemporal) {
    const server = await startTemporalDevServer({
      cliPath: resolveTemporalCli(config.temporalCliPath),
      port: temporalPort,
      uiPort: temporalUiPort,
      dbFile: path.resolve(config.dataDir, 'temporal.db'),
    });
    parts.push({ name: 'Temporal', stop: server.stop, hurry: () => server.process.kill('SIGKILL') });
    temporalAddress = server.address;
    temporalUiUrl = server.uiUrl;
    log(`Temporal dev server on ${temporalAddress}`);
  }

  const pool = createPool({ url: db.url, max: 2 });
  const users = await ensureDemoUsers(pool).finally(() => pool.end());
  if (stopping) return;

  const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporalAddress };
  const workerOutput = printer('worker', workerLines(config.logLevel));
  const workerEnv = {
    ...env,
    WORKER_METRICS_PORT: String(metrics.worker),
    TEMPORAL_METRICS_PORT: String(metrics.temporalSdk),
  };
  const worker = startChild('worker', 'src/worker.ts', workerEnv, workerOutput, WORKER_STOP_GRACE_MS);
  watch(worker);
  const api = startChild(
    'api',
    'src/server.ts',
    { ...env, HOST: '127.0.0.1', PORT: String(config.port), METRICS_PORT: String(metrics.api) },
    printer('api', apiLines(config.logLevel)),
  );
  watch(api);
  const apiUrl = `http://127.0.0.1:${config.port}`;
  await waitForHttp(`${apiUrl}/health`, api);
  if (stopping) return;
  const metricsUrls = Object.values(metrics).map((port) => `http://${config.metricsHost}:${port}/metrics`);
  console.log(banner({ apiUrl, temporalUiUrl, temporalAddress, metricsUrls, bobId: users.get('bob') ?? 2 }));
}

main().catch(async (error) => {
  if (stopping) return; // a part that was starting when Ctrl-C came
  console.error(`[dev] ${error instanceof ConfigError ? 'configuration: ' : ''}${error?.message ?? error}`);
  await shutdown(1);
});
