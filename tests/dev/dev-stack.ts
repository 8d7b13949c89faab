// `npm run dev` as a newcomer runs it, from a clean data folder on free ports, for the tests of tests/dev:
// its output, its process tree, and Ctrl-C as a terminal sends it (to the whole foreground group).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/net/free-port.js';

export interface DevPorts {
  api: number;
  pg: number;
  temporal: number;
  ui: number;
  metrics: number;
  workerMetrics: number;
  temporalMetrics: number;
}

export class DevStack {
  output = '';
  private constructor(
    readonly dir: string,
    readonly ports: DevPorts,
    readonly process: ChildProcess,
  ) {
    process.stdout?.on('data', (c) => (this.output += c));
    process.stderr?.on('data', (c) => (this.output += c));
  }

  /** again: run on the data folder and ports of an earlier stack that has stopped (a second run). */
  static async start(env: Record<string, string> = {}, again?: DevStack): Promise<DevStack> {
    const dir = again?.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'wallet-dev-')));
    const ports = again?.ports ?? {
      api: await findFreePort(),
      pg: await findFreePort(),
      temporal: await findFreePort(),
      ui: await findFreePort(),
      metrics: await findFreePort(),
      workerMetrics: await findFreePort(),
      temporalMetrics: await findFreePort(),
    };
    // detached: its own process group, so a test can send Ctrl-C to all of it as a terminal would.
    const child = spawn('npm', ['run', 'dev'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: '',
        TEMPORAL_ADDRESS: '',
        WALLET_DATA_DIR: path.join(dir, 'data'),
        PORT: String(ports.api),
        EMBEDDED_PG_PORT: String(ports.pg),
        TEMPORAL_PORT: String(ports.temporal),
        TEMPORAL_UI_PORT: String(ports.ui),
        METRICS_PORT: String(ports.metrics),
        WORKER_METRICS_PORT: String(ports.workerMetrics),
        TEMPORAL_METRICS_PORT: String(ports.temporalMetrics),
        ...env,
      },
    });
    return new DevStack(dir, ports, child);
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.api}`;
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /** Polls probe until it returns a value; fails early if npm run dev exits while it should be running. */
  async waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined>,
    timeoutMs: number,
    whileRunning = true,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (whileRunning && this.exited)
        throw new Error(`npm run dev exited while waiting for ${what}:\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out waiting for ${what}:\n${this.output.slice(-3000)}`);
  }

  waitForBanner(): Promise<true> {
    return this.waitFor(
      'the banner',
      async () => (this.output.includes('The atomic wallet is up.') ? true : undefined),
      180_000,
    );
  }

  /** Ctrl-C at the terminal: SIGINT to every process of the foreground group (npm and what it runs). */
  interrupt(): void {
    if (!this.process.pid) throw new Error('no dev process');
    process.kill(-this.process.pid, 'SIGINT');
  }

  waitForExit(timeoutMs = 90_000): Promise<true> {
    return this.waitFor(
      'npm run dev to exit',
      async () => (this.exited ? true : undefined),
      timeoutMs,
      false,
    );
  }

  /** Whatever is left is killed (only after a failed test), then the data folder goes. */
  async remove(): Promise<void> {
    const pids = this.process.pid ? [...descendants(this.process.pid).keys(), this.process.pid] : [];
    for (const pid of alive(pids)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Every process below root: npm, the runner, PostgreSQL, Temporal, the API, the worker and its Chromium. */
export function descendants(root: number): Map<number, string> {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' });
  const rows = out
    .trim()
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m) => m !== null);
  const found = new Map<number, string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [, pid, ppid, args] of rows) {
      if ((Number(ppid) === root || found.has(Number(ppid))) && !found.has(Number(pid))) {
        found.set(Number(pid), args ?? '');
        grew = true;
      }
    }
  }
  return found;
}

export function alive(pids: Iterable<number>): number[] {
  return [...pids].filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}
