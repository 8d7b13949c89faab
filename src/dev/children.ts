// The API and the worker run as child processes of `npm run dev`, so each keeps its own signal handling and
// graceful shutdown exactly as in production; their output is prefixed with their name.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPEAT_WINDOW_MS } from '../process/stop-signals.js';

export interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not exited within its grace time. */
  stop(): Promise<void>;
  /** A second SIGTERM, a second after the first: our processes take it as "exit now, without draining"
   *  (they free their Chromium). */
  hurry(): void;
}

const STOP_GRACE_MS = 15_000;

/** onLine receives each output line; by default lines are printed with the child's name in front.
 *  stopGraceMs: how long stop() waits for a graceful exit (a draining worker needs longer than the API). */
export function startChild(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void = (line) => console.log(`[${name}] ${line}`),
  stopGraceMs = STOP_GRACE_MS,
): Child {
  // `node --import tsx` rather than the tsx CLI: no wrapper process between us and the signals.
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const outputEnded = [child.stdout, child.stderr].map((stream) => {
    if (!stream) return Promise.resolve();
    const lines = createInterface({ input: stream }).on('line', onLine);
    return new Promise<void>((resolve) => lines.once('close', resolve));
  });
  // 'exit' can come before the last lines are read: wait for them (briefly: a grandchild that inherited
  // the pipe could hold it open).
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      const drained = Promise.all(outputEnded);
      void Promise.race([drained, new Promise((r) => setTimeout(r, 1000))]).then(() => resolve(code));
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  let terms = 0;
  let firstTermAt = 0;
  const term = () => {
    if (!running()) return;
    if (terms++ === 0) firstTermAt = Date.now();
    child.kill('SIGTERM');
  };
  return {
    name,
    process: child,
    exited,
    async stop() {
      if (!running()) return;
      term();
      const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      await exited;
      clearTimeout(timer);
    },
    hurry() {
      // Our processes take a SIGTERM within REPEAT_WINDOW_MS of the first as a copy of it (a relay), so the
      // "now" one goes after that window; when not asked yet, ask first (signals do not queue).
      if (terms === 0) term();
      const wait = Math.max(0, firstTermAt + REPEAT_WINDOW_MS + 100 - Date.now());
      setTimeout(term, wait).unref();
    },
  };
}

/** Polls url until it answers 200, or fails when the child exits or time runs out. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void child.exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(`${child.name} exited (code ${exitCode}) before it was ready`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} was not ready at ${url} within ${timeoutMs / 1000} s`);
}
