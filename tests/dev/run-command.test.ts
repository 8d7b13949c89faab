// The README's run command, as a newcomer runs it, from a clean data folder: it comes up, moves money, makes
// the PDF, shows the receipt workflow in the Temporal UI, and Ctrl-C leaves no process behind.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findFreePort } from '../../src/net/free-port.js';

vi.setConfig({ testTimeout: 240_000 });

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let dir: string;
let dev: ChildProcess;
let output = '';
let ports: { api: number; pg: number; temporal: number; ui: number };
const alice = `Basic ${Buffer.from('alice:alice-demo-password').toString('base64')}`;

/** Every process below root: npm, the runner, PostgreSQL, Temporal, the API, the worker and its Chromium. */
function descendants(root: number): Map<number, string> {
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

function alive(pids: Iterable<number>): number[] {
  return [...pids].filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (dev.exitCode !== null)
      throw new Error(
        `npm run dev exited (${dev.exitCode}) while waiting for ${what}:\n${output.slice(-3000)}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}:\n${output.slice(-3000)}`);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-dev-'));
  ports = {
    api: await findFreePort(),
    pg: await findFreePort(),
    temporal: await findFreePort(),
    ui: await findFreePort(),
  };
  // detached: its own process group, so the test can send Ctrl-C to all of it as a terminal would.
  dev = spawn('npm', ['run', 'dev'], {
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
    },
  });
  dev.stdout?.on('data', (c) => (output += c));
  dev.stderr?.on('data', (c) => (output += c));
});

afterAll(async () => {
  // Only if a test failed before Ctrl-C: whatever is left of the group goes.
  if (dev?.pid && dev.exitCode === null && dev.signalCode === null) {
    try {
      process.kill(-dev.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

describe('npm run dev', () => {
  const api = () => `http://127.0.0.1:${ports.api}`;

  it('brings everything up and prints where it is', async () => {
    await waitFor(
      'the banner',
      async () => (output.includes('The atomic wallet is up.') ? true : undefined),
      180_000,
    );
    expect(output).toContain(`${api()}/docs`);
    expect(output).toContain(`http://127.0.0.1:${ports.ui}`);
    expect(output).toContain('alice / alice-demo-password');
    expect(output).toContain('curl -s -u alice:alice-demo-password');
  });

  let transactionId: number;
  it('moves money and renders the PDF receipt', async () => {
    const balance = await (
      await fetch(`${api()}/api/wallet/balance/`, { headers: { authorization: alice } })
    ).json();
    expect(balance).toMatchObject({ username: 'alice', balance: '1000.00' });
    const bobId = Number(/"receiver_id": (\d+)/.exec(output)?.[1]);
    const response = await fetch(`${api()}/api/wallet/transfer/`, {
      method: 'POST',
      headers: { authorization: alice, 'content-type': 'application/json' },
      body: JSON.stringify({ receiver_id: bobId, amount: '25.00' }),
    });
    expect(response.status).toBe(201);
    transactionId = ((await response.json()) as { transaction_id: number }).transaction_id;
    const pdf = await waitFor(
      'the PDF',
      async () => {
        const r = await fetch(`${api()}/api/wallet/transactions/${transactionId}/receipt`, {
          headers: { authorization: alice },
        });
        return r.status === 200 ? Buffer.from(await r.arrayBuffer()) : undefined;
      },
      120_000,
    );
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('lists the receipt workflow in the Temporal Web UI', async () => {
    const browser = await puppeteer.launch({
      executablePath: chromium,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1400, height: 900 });
      const query = encodeURIComponent(`TransactionId = ${transactionId}`);
      const url = `http://127.0.0.1:${ports.ui}/namespaces/default/workflows?query=${query}`;
      await waitFor(
        'the workflow in the UI',
        async () => {
          await page.goto(url, { waitUntil: 'networkidle2', timeout: 30_000 });
          const text = await page.evaluate(() => document.body.textContent ?? '');
          return text.includes(`receipt-${transactionId}`) ? true : undefined;
        },
        60_000,
      );
      await mkdir('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/temporal-ui-receipt.png' });
    } finally {
      await browser.close();
    }
  });

  it('stops everything it started on Ctrl-C', async () => {
    if (!dev.pid) throw new Error('no dev process');
    const started = descendants(dev.pid);
    const names = [...started.values()].join('\n');
    for (const part of ['postgres', 'temporal', 'src/server.ts', 'src/worker.ts', 'chrom'])
      expect(names).toContain(part);
    process.kill(-dev.pid, 'SIGINT');
    await waitFor(
      'npm run dev to exit',
      async () => (dev.exitCode !== null || dev.signalCode !== null ? true : undefined),
      60_000,
    );
    await waitFor(
      'its processes to go',
      async () => (alive(started.keys()).length === 0 ? true : undefined),
      20_000,
    );
    expect(alive(started.keys()).map((pid) => started.get(pid))).toEqual([]);
    expect(output).toContain('[dev] stopped');
    const stillListening = await fetch(`${api()}/health`).then(
      () => true,
      () => false,
    );
    expect(stillListening).toBe(false);
  });
});
