// The whole system as separate processes, each of which a fault test can kill and bring back: its own
// PostgreSQL (not the suite's shared one, since it gets restarted), a Temporal dev server with a state file,
// the worker and the API.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, vi } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { type Child, startChild, waitForHttp } from '../../src/dev/children.js';
import { findFreePort } from '../../src/net/free-port.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';
import { startTemporalOnPostgres } from '../../src/temporal/postgres-server.js';
import { descendants, isChromium } from '../helpers/chromium.js';
import type { TransferRecord } from './workload.js';

export interface BankUser {
  id: number;
  username: string;
  authorization: string;
}

const PASSWORD = 'bank-test-password';

/** Which Temporal server the system runs: the dev server (SQLite file), or the production shape (the real
 *  server on a PostgreSQL of its own, SQL visibility), which SYSTEM_TEMPORAL=postgres picks by default. */
export type TemporalBackend = 'dev' | 'postgres';
const DEFAULT_BACKEND: TemporalBackend = process.env.SYSTEM_TEMPORAL === 'postgres' ? 'postgres' : 'dev';

export class System {
  readonly dir: string;
  pgPort = 0;
  temporalPort = 0;
  apiPort = 0;
  postgres?: EmbeddedServer;
  temporal?: DevServer;
  worker?: Child;
  api?: Child;
  admin?: pg.Pool;
  private logTails = new Map<string, string[]>();
  /** Prints the worker announced while RECEIPT_RENDER_DELAY_MS holds them on a page: when, and which receipts. */
  private heldPrints: { at: number; ids: number[]; by: string }[] = [];

  private constructor(
    dir: string,
    readonly temporalBackend: TemporalBackend,
  ) {
    this.dir = dir;
  }

  static async start(temporalBackend = DEFAULT_BACKEND): Promise<System> {
    const system = new System(await mkdtemp(path.join(os.tmpdir(), 'wallet-system-')), temporalBackend);
    [system.pgPort, system.temporalPort, system.apiPort] = [
      await findFreePort(),
      await findFreePort(),
      await findFreePort(),
    ];
    await system.startPostgres();
    await migrate(system.databaseUrl);
    system.admin = createPool({ url: system.databaseUrl, max: 4 });
    system.admin.on('error', () => undefined); // idle clients die when PostgreSQL is restarted on purpose
    await system.startTemporal();
    system.startWorker();
    await system.startApi();
    return system;
  }

  get databaseUrl(): string {
    return `postgres://postgres:postgres@127.0.0.1:${this.pgPort}/postgres`;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  get temporalAddress(): string {
    return `127.0.0.1:${this.temporalPort}`;
  }

  /** The last lines each child printed, shortened, for a failure message. */
  tail(): string {
    return [...this.logTails.values()]
      .flatMap((lines) => lines.slice(-12))
      .map((line) => line.slice(0, 300))
      .join('\n');
  }

  /**
   * The receipts of a print that began holding its page after `since` (the test-only render delay names them
   * when it starts): a fault now lands inside that print. Fails if none begins within `timeoutMs`. `by`: only
   * a print of the process of that name (a worker replica).
   */
  async waitForHeldPrint(since: number, timeoutMs = 180_000, by?: string): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const print = this.heldPrints.find((p) => p.at >= since && (by === undefined || p.by === by));
      if (print) return print.ids;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no print held its page within ${timeoutMs / 1000} s`);
  }

  private keep(name: string) {
    const lines = this.logTails.get(name) ?? [];
    this.logTails.set(name, lines);
    return (line: string) => {
      const held = /test delay: holding receipts ([\d,]+) before printing/.exec(line);
      if (held)
        this.heldPrints.push({ at: Date.now(), ids: (held[1] ?? '').split(',').map(Number), by: name });
      lines.push(`[${name}] ${line}`);
      if (lines.length > 400) lines.splice(0, 200);
    };
  }

  async startPostgres() {
    this.postgres = await startEmbeddedPostgres({ dataDir: path.join(this.dir, 'pg'), port: this.pgPort });
  }

  async startTemporal() {
    if (this.temporalBackend === 'postgres') {
      // Its state lives in its own PostgreSQL under dir/temporal: a restart keeps every workflow.
      this.temporal = await startTemporalOnPostgres({
        dir: path.join(this.dir, 'temporal'),
        port: this.temporalPort,
      });
      return;
    }
    this.temporal = await startTemporalDevServer({
      cliPath: resolveTemporalCli(),
      port: this.temporalPort,
      dbFile: path.join(this.dir, 'temporal.db'),
    });
  }

  private env() {
    return {
      DATABASE_URL: this.databaseUrl,
      TEMPORAL_ADDRESS: this.temporalAddress,
      LOG_LEVEL: process.env.SYSTEM_LOG_LEVEL ?? 'warn',
      RECEIPT_SWEEP_MS: '1000',
    };
  }

  /** `extra` adds to the worker's environment (e.g. RECEIPT_RENDER_DELAY_MS for a fault that needs time). */
  startWorker(extra: Record<string, string> = {}) {
    this.worker = this.spawnWorker('worker', extra);
  }

  /** Stops PostgreSQL; fails if it was not running, so a fault cannot silently not happen. */
  async stopPostgres() {
    if (!this.postgres) throw new Error('PostgreSQL is not running');
    await this.postgres.stop();
    this.postgres = undefined;
  }

  /** Stops the Temporal server; fails if it was not running. */
  async stopTemporal() {
    if (!this.temporal) throw new Error('Temporal is not running');
    await this.temporal.stop();
    this.temporal = undefined;
  }

  async startApi() {
    this.api = await this.spawnApi('api', this.apiPort);
  }

  /** Another worker process on the same database and Temporal (a replica); the caller stops it. */
  spawnWorker(name: string, extra: Record<string, string> = {}): Child {
    return startChild(name, 'src/worker.ts', { ...this.env(), ...extra }, this.keep(name));
  }

  /** Another API process on the same database and Temporal, on its own port; the caller stops it. */
  async spawnApi(name: string, port: number): Promise<Child> {
    const api = startChild(name, 'src/server.ts', { ...this.env(), PORT: String(port) }, this.keep(name));
    await waitForHttp(`http://127.0.0.1:${port}/health`, api);
    return api;
  }

  /**
   * SIGKILL: no graceful anything, as when a machine or the OOM killer takes a process. Returns the signal
   * that ended it; fails for a process that is missing or already gone (the fault would not happen).
   */
  static async kill(child: Child | undefined): Promise<NodeJS.Signals | null> {
    if (!child || child.process.exitCode !== null || child.process.signalCode !== null)
      throw new Error(`cannot kill ${child?.name ?? 'a missing process'}: it is not running`);
    child.process.kill('SIGKILL');
    await child.exited;
    return child.process.signalCode;
  }

  /** The Chromium processes under the worker (its browser and the browser's own children). */
  chromiumPids(): number[] {
    const workerPid = this.worker?.process.pid;
    return workerPid
      ? descendants(workerPid)
          .filter(isChromium)
          .map((p) => p.pid)
      : [];
  }

  async createUsers(count: number, funding: string): Promise<BankUser[]> {
    const hash = await hashPassword(PASSWORD);
    const users: BankUser[] = [];
    for (let i = 0; i < count; i++) {
      const username = `bank${i}`;
      const { rows } = await this.db().query('SELECT wallet.create_user($1, $2) AS id', [username, hash]);
      await this.db().query('SELECT * FROM wallet.deposit($1, $2::numeric)', [rows[0].id, funding]);
      const authorization = `Basic ${Buffer.from(`${username}:${PASSWORD}`).toString('base64')}`;
      users.push({ id: rows[0].id, username, authorization });
    }
    return users;
  }

  db(): pg.Pool {
    if (!this.admin) throw new Error('system not started');
    return this.admin;
  }

  async stop() {
    await this.api?.stop();
    await this.worker?.stop();
    await this.temporal?.stop();
    await this.admin?.end().catch(() => undefined);
    await this.postgres?.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** What a test file shares: the system, its funded users, and every transfer its workloads made so far. */
export interface SystemRun {
  system: System;
  users: BankUser[];
  funding: string;
  earlier: TransferRecord[];
}

/**
 * For a test file: the system started once with funded users before its tests and stopped after them, and
 * the minutes-long timeout whole-system runs need. Read `.system` and `.users` inside the tests.
 */
export function useSystem(userCount: number, funding: string, temporal?: TemporalBackend): SystemRun {
  const state = { funding, earlier: [] } as unknown as SystemRun;
  vi.setConfig({ testTimeout: 600_000 });
  beforeAll(
    async () => {
      state.system = await System.start(temporal);
      state.users = await state.system.createUsers(userCount, funding);
      // The production shape may first build the Temporal server (minutes on a cold machine).
    },
    temporal === 'postgres' ? 1_200_000 : 180_000,
  );
  afterAll(async () => {
    await state.system?.stop();
  });
  return state;
}
