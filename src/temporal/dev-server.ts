import { type ChildProcess, spawn } from 'node:child_process';
import { searchAttributeCliArgs } from './search-attributes.js';
import { superviseServer } from './supervise-server.js';

export interface DevServerOptions {
  cliPath: string;
  port: number;
  /** Web UI port; omitted means `--headless` (tests need no UI). */
  uiPort?: number;
  /** SQLite file to keep state across restarts; omitted means in-memory. */
  dbFile?: string;
  /** Extra namespace to create ("default" always exists). */
  namespace?: string;
  logLevel?: string;
  /** Register the receipt search attributes at start (default true); false: a plain server, as a fresh
   *  cluster is, which the worker must set up itself. */
  searchAttributes?: boolean;
  /** Run the server at this CPU niceness (through `nice`, so that every thread of the Go runtime gets it;
   *  renicing the process afterwards would reach its first thread only). */
  nice?: number;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
  process: ChildProcess;
}

const STOP_GRACE_MS = 5_000;

/**
 * Runs `temporal server start-dev` on 127.0.0.1 and resolves once it answers gRPC. We start it ourselves
 * rather than through TestWorkflowEnvironment.createLocal because that waits only ~5 s, too little on a busy
 * 2-core machine.
 */
export async function startTemporalDevServer(opts: DevServerOptions): Promise<DevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port)];
  args.push(...(opts.uiPort === undefined ? ['--headless'] : ['--ui-port', String(opts.uiPort)]));
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  if (opts.namespace && opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  args.push('--log-level', opts.logLevel ?? 'warn');
  if (opts.searchAttributes !== false) args.push(...searchAttributeCliArgs());

  const [command, commandArgs] = opts.nice
    ? ['nice', ['-n', String(opts.nice), opts.cliPath, ...args]]
    : [opts.cliPath, args];
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = await superviseServer(child, {
    address: `127.0.0.1:${opts.port}`,
    what: 'temporal dev server',
    stopGraceMs: STOP_GRACE_MS,
  });
  const uiUrl = opts.uiPort === undefined ? undefined : `http://127.0.0.1:${opts.uiPort}`;
  return { ...server, uiUrl };
}
