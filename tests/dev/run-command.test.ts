// The README's run command, as a newcomer runs it, from a clean data folder: it comes up, moves money, makes
// the PDF, shows the receipt workflow in the Temporal UI, and Ctrl-C in the middle of a (slowed) render stops
// in order: the render finishes and is stored, nothing is left running, no port stays taken, no WARN; a second
// Ctrl-C stops at once.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import puppeteer from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { embeddedServerUrl, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { isFree } from '../../src/dev/ports.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { queryOnce } from '../helpers/database.js';
import { alive, DevStack, descendants } from './dev-stack.js';

vi.setConfig({ testTimeout: 240_000 });

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STARTED = proto.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
// Long enough for the Ctrl-C to land in the middle of a render, short enough to drain in the worker's grace.
const RENDER_DELAY_MS = 6000;
let dev: DevStack;
const alice = `Basic ${Buffer.from('alice:alice-demo-password').toString('base64')}`;

beforeAll(async () => {
  dev = await DevStack.start({ RECEIPT_RENDER_DELAY_MS: String(RENDER_DELAY_MS) });
});

afterAll(async () => {
  await dev?.remove();
});

async function transfer(amount: string, stack = dev): Promise<number> {
  const bobId = Number(/"receiver_id": (\d+)/.exec(stack.output)?.[1]);
  const response = await fetch(`${stack.apiUrl}/api/wallet/transfer/`, {
    method: 'POST',
    headers: { authorization: alice, 'content-type': 'application/json' },
    body: JSON.stringify({ receiver_id: bobId, amount }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { transaction_id: number }).transaction_id;
}

/** Waits until the receipt's render activity is running in the worker. */
async function renderRunning(stack: DevStack, transactionId: number): Promise<void> {
  const address = `127.0.0.1:${stack.ports.temporal}`;
  const client = await connectTemporalClient({ address, namespace: 'default' });
  try {
    await stack.waitFor(
      'the render to be running',
      async () => {
        const described = await client.workflow.getHandle(`receipt-${transactionId}`).describe();
        const pending = described.raw.pendingActivities ?? [];
        return pending.some((a) => a.state === STARTED) ? true : undefined;
      },
      90_000,
    );
  } finally {
    await client.connection.close();
  }
}

describe('npm run dev', () => {
  it('brings everything up and prints where it is', async () => {
    await dev.waitForBanner();
    expect(dev.output).toContain(`${dev.apiUrl}/docs`);
    expect(dev.output).toContain(`http://127.0.0.1:${dev.ports.ui}`);
    expect(dev.output).toContain('alice / alice-demo-password');
    expect(dev.output).toContain('curl -s -u alice:alice-demo-password');
    // The three /metrics URLs, each serving Prometheus text.
    for (const port of [dev.ports.metrics, dev.ports.workerMetrics, dev.ports.temporalMetrics]) {
      const url = `http://127.0.0.1:${port}/metrics`;
      expect(dev.output).toContain(url);
      // The SDK's exporter has lines once the worker has polled: wait for them.
      const text = await dev.waitFor(
        url,
        async () => {
          const body = await (await fetch(url)).text();
          return /^# (HELP|TYPE) /m.test(body) ? body : undefined;
        },
        30_000,
      );
      expect(text, url).toMatch(/^[a-z_]+(\{.*\})? \S+$/m);
    }
  });

  let transactionId: number;
  it('moves money and renders the PDF receipt', async () => {
    const balance = await (
      await fetch(`${dev.apiUrl}/api/wallet/balance/`, { headers: { authorization: alice } })
    ).json();
    expect(balance).toMatchObject({ username: 'alice', balance: '1000.00' });
    transactionId = await transfer('25.00');
    const pdf = await dev.waitFor(
      'the PDF',
      async () => {
        const r = await fetch(`${dev.apiUrl}/api/wallet/transactions/${transactionId}/receipt`, {
          headers: { authorization: alice },
        });
        return r.status === 200 ? Buffer.from(await r.arrayBuffer()) : undefined;
      },
      120_000,
    );
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    // One short line per request, not the API's two JSON lines; the API says where its database is.
    expect(dev.output).toMatch(/\[api\] 201 POST \/api\/wallet\/transfer\/ \d+ ms/);
    expect(dev.output).not.toContain('incoming request');
    expect(dev.output).toContain(`wallet API ready (database=127.0.0.1:${dev.ports.pg}/wallet`);
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
      const url = `http://127.0.0.1:${dev.ports.ui}/namespaces/default/workflows?query=${query}`;
      await dev.waitFor(
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

  it('stops in order on Ctrl-C during a render: the receipt is stored, nothing is left, no WARN', async () => {
    if (!dev.process.pid) throw new Error('no dev process');
    const slow = await transfer('5.00');
    await renderRunning(dev, slow);
    const started = descendants(dev.process.pid);
    const names = [...started.values()].join('\n');
    for (const part of ['postgres', 'temporal', 'src/server.ts', 'src/worker.ts', 'chrom'])
      expect(names).toContain(part);
    // The receipt is still pending as the interrupt goes out: its PDF, found later, is the drain's work.
    const { rows: live } = await queryOnce(
      embeddedServerUrl(dev.ports.pg, 'wallet'),
      'SELECT status FROM wallet.receipts WHERE transaction_id = $1',
      [slow],
    );
    expect(live).toEqual([{ status: 'pending' }]);
    const outputBefore = dev.output.length;
    dev.interrupt();
    await dev.waitForExit();
    await dev.waitFor(
      'its processes to go',
      async () => (alive(started.keys()).length === 0 ? true : undefined),
      20_000,
      false,
    );
    expect(alive(started.keys()).map((pid) => started.get(pid))).toEqual([]);
    const stopOutput = dev.output.slice(outputBefore);
    expect(stopOutput).toContain('[dev] stopped');
    // In order, from their stop lines: the API, the worker (its drain line first), Temporal, PostgreSQL.
    const order = [
      '[dev] api stopped',
      'receipt worker stopped (it printed',
      '[dev] worker stopped',
      '[dev] Temporal stopped',
      '[dev] PostgreSQL stopped',
      '[dev] stopped',
    ].map((line) => [line, stopOutput.indexOf(line)] as const);
    expect(order.filter(([, at]) => at < 0)).toEqual([]);
    expect([...order].sort((a, b) => a[1] - b[1]).map(([line]) => line)).toEqual(order.map(([line]) => line));
    expect(stopOutput.split('\n').filter((line) => /\bWARN\b|"level":[4-6]0/.test(line))).toEqual([]);
    for (const [what, port] of Object.entries(dev.ports)) expect(await isFree(port), what).toBe(true);

    // The render that Ctrl-C interrupted finished and was stored before PostgreSQL stopped.
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(dev.dir, 'data', 'pgdata'),
      port: dev.ports.pg,
    });
    try {
      const { rows } = await queryOnce(
        embeddedServerUrl(dev.ports.pg, 'wallet'),
        'SELECT status, pdf_size FROM wallet.receipts WHERE transaction_id = $1',
        [slow],
      );
      expect(rows).toEqual([{ status: 'rendered', pdf_size: expect.any(Number) }]);
      expect(rows[0].pdf_size).toBeGreaterThan(0);
    } finally {
      await pg.stop();
    }
  });

  it('stops at once on a second Ctrl-C, even with a render that would hold the worker for minutes', async () => {
    // A second run on the same data folder, with renders held far longer than an orderly stop would wait.
    const again = await DevStack.start({ RECEIPT_RENDER_DELAY_MS: '300000' }, dev);
    try {
      await again.waitForBanner();
      if (!again.process.pid) throw new Error('no dev process');
      await renderRunning(again, await transfer('1.00', again));
      const started = descendants(again.process.pid);
      again.interrupt();
      await again.waitFor(
        'the orderly stop',
        async () => (again.output.includes('[dev] stopping:') ? true : undefined),
        30_000,
      );
      await new Promise((r) => setTimeout(r, 1500)); // a person pressing again, not a relayed copy
      again.interrupt();
      await again.waitForExit();
      expect(again.output).toContain('[dev] stopping now');
      expect(again.output).toContain('SIGTERM again: exiting without waiting');
      await again.waitFor(
        'its processes to go',
        async () => (alive(started.keys()).length === 0 ? true : undefined),
        20_000,
        false,
      );
      expect(alive(started.keys()).map((pid) => started.get(pid))).toEqual([]);
      for (const [what, port] of Object.entries(again.ports)) expect(await isFree(port), what).toBe(true);
    } finally {
      if (!again.exited && again.process.pid) process.kill(-again.process.pid, 'SIGKILL');
    }
  });
});
