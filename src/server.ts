// `npm start`: the API only. Without DATABASE_URL it uses the embedded PostgreSQL (the one `npm run dev` runs,
// or its own) and migrates it first.
// SIGTERM/SIGINT close the listener, let in-flight requests finish, then release the pool and the database.
import { buildApp } from './api/app.js';
import { warmUpPasswords } from './auth/passwords.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { openOrJoinDatabase } from './db/database.js';
import { DatabaseStartError } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { apiRegistry } from './metrics/names.js';
import { type MetricsServer, startMetricsServer } from './metrics/server.js';
import { onStopSignals } from './process/stop-signals.js';
import { startTracing } from './telemetry/tracing.js';

const SHUTDOWN_GRACE_MS = 10_000;
const STATEMENT_TIMEOUT_MS = 10_000;

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`configuration error: ${error.message}`);
    process.exit(1);
  }
}

/** Without DATABASE_URL: the embedded server of `npm run dev` if one runs, else one of our own. */
async function databaseOrExit(config: Config) {
  try {
    return await openOrJoinDatabase(config);
  } catch (error) {
    if (!(error instanceof DatabaseStartError)) throw error;
    console.error(`cannot start: ${error.message}`); // one line, no stack: it says what to set
    process.exit(1);
  }
}

const config = configOrExit();
// Before the pool and the app: spans for requests and queries from the first one (only with an OTLP endpoint).
const tracing = startTracing({ serviceName: 'wallet-api' });
const db = await databaseOrExit(config);
if (db.embedded) await migrate(db.url);
const pool = createPool({
  url: db.url,
  max: config.dbPoolSize,
  role: config.databaseRole,
  applicationName: 'wallet-api',
  statementTimeoutMs: STATEMENT_TIMEOUT_MS,
  startsReceiptWorkflows: true,
});
const app = await buildApp({ pool, config, metrics: config.metricsPort > 0 });
// An idle connection dropped by the server must not crash the process; the next query reconnects.
// Only the message and code: the error object carries the client and its connection parameters.
pool.on('error', (error) =>
  app.log.warn(
    { code: (error as { code?: string }).code, message: error.message },
    'idle database connection failed',
  ),
);
await warmUpPasswords(); // the dummy hash for unknown users, made before the first login needs it
await app.listen({ host: config.host, port: config.port });
let metrics: MetricsServer | undefined;
if (config.metricsPort) {
  metrics = await startMetricsServer(apiRegistry, config.metricsHost, config.metricsPort);
  app.log.info({ url: metrics.url }, 'metrics served');
}
// Where the database is, not whether this process started it (`npm run dev` starts it for the API).
const { host: databaseHost, pathname: databaseName } = new URL(db.url);
app.log.info(
  { database: `${databaseHost}${databaseName}`, temporal: config.temporalAddress },
  'wallet API ready',
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'shutting down: finishing in-flight requests');
  setTimeout(() => {
    app.log.error('shutdown took too long; exiting');
    process.exit(1);
  }, SHUTDOWN_GRACE_MS).unref();
  try {
    await app.close();
    await metrics?.close();
    await tracing?.shutdown(); // flushes the last spans
    await pool.end();
    await db.stop();
    process.exit(0);
  } catch (error) {
    app.log.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}
// A copy of the same signal (npm relays what a terminal or systemd also sent us) changes nothing; a later one
// stops at once, as a second Ctrl-C does.
onStopSignals((kind, signal) => {
  if (kind === 'orderly') return void shutdown(signal);
  app.log.warn({ signal }, 'asked again: exiting without waiting');
  process.exit(1);
});
