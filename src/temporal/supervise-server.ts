// Running a Temporal server as a child process (the dev server, or the real server of the production shape):
// keep its output's head and tail for errors, kill it if this process dies, resolve once it answers gRPC.
import type { ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';

const READY_TIMEOUT_MS = 60_000;
const HEAD_CHARS = 2_000;
const TAIL_CHARS = 2_000;

export interface SupervisedServer {
  address: string;
  stop(): Promise<void>;
  process: ChildProcess;
}

/** Waits for `child` to spawn and serve at `address`; on failure stops it and throws with its last output. */
export async function superviseServer(
  child: ChildProcess,
  opts: { address: string; what: string; stopGraceMs: number },
): Promise<SupervisedServer> {
  // Keep the output whole while it is short, then its head and tail, for the error message (a Go panic names
  // its cause first, then pages of stack); reading the pipes also keeps the server from blocking.
  let whole = '';
  let head = '';
  let tail = '';
  const keep = (chunk: Buffer) => {
    if (head) {
      tail = (tail + chunk.toString()).slice(-TAIL_CHARS);
      return;
    }
    whole += chunk.toString();
    if (whole.length > HEAD_CHARS + TAIL_CHARS) {
      [head, tail, whole] = [whole.slice(0, HEAD_CHARS), whole.slice(-TAIL_CHARS), ''];
    }
  };
  const output = () => (head ? `${head}\n[...]\n${tail}` : whole);
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // 'close' rather than 'exit': it comes after the pipes are drained, so the output holds the last words.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // A bad path fails here with spawn's own error (e.g. ENOENT naming the path).
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  // A test runner that dies must not leave a server holding the port.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    process.off('exit', killOnExit);
    if (!running()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.stopGraceMs);
    await exited;
    clearTimeout(timer);
  };
  const died = exited.then((): never => {
    throw new Error(
      `${opts.what} exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${output()}`,
    );
  });
  try {
    await Promise.race([waitUntilServing(opts.address, running, opts.what), died]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address: opts.address, stop, process: child };
}

/** Resolves once a Temporal frontend at `address` answers gRPC; gives up when `running()` turns false. */
async function waitUntilServing(address: string, running: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  // Stop polling once the process is gone: the caller reports that failure with the server's output.
  while (Date.now() < deadline && running()) {
    // lazy + close in finally: Connection.connect() leaks its gRPC channel when it fails, and a leaked channel
    // keeps reconnecting (and keeps the event loop alive) after the server is gone.
    const connection = Connection.lazy({ address, connectTimeout: 2_000 });
    try {
      await connection.ensureConnected();
      await connection.workflowService.getSystemInfo({});
      return;
    } catch (err) {
      lastError = err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      await connection.close();
    }
  }
  throw new Error(`${what} at ${address} not ready after ${READY_TIMEOUT_MS / 1000} s: ${lastError}`);
}
