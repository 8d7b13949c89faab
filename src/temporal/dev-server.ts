import { type ChildProcess, spawn } from 'node:child_process';
import { searchAttributeCliArgs } from './search-attributes.js';
import { waitUntilServing } from './wait-serving.js';

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
const TAIL_CHARS = 4_000;

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
  // Keep only the output's tail, for the error message; reading the pipes also keeps the server from blocking.
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // 'close' rather than 'exit': it comes after the pipes are drained, so the tail holds the last words.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // A bad cliPath fails here with spawn's own error (e.g. ENOENT naming the path).
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  // A test runner that dies must not leave a server holding the port.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    process.off('exit', killOnExit);
    if (!running()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  const address = `127.0.0.1:${opts.port}`;
  const died = exited.then((): never => {
    throw new Error(
      `temporal dev server exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${tail}`,
    );
  });
  try {
    await Promise.race([waitUntilServing(address, running, 'temporal dev server'), died]);
  } catch (err) {
    await stop();
    throw err;
  }
  const uiUrl = opts.uiPort === undefined ? undefined : `http://127.0.0.1:${opts.uiPort}`;
  return { address, uiUrl, stop, process: child };
}
