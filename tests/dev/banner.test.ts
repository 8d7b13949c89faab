// The banner's receipt command, run as pasted against a server that answers as the API does while a receipt
// renders (202 with a JSON body, twice) and then 200 with the PDF: the saved file is the PDF, not the JSON.
import { exec } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { banner } from '../../src/dev/banner.js';

describe('the banner', () => {
  it('gives a receipt command that saves the PDF once it is rendered', async () => {
    let asked = 0;
    const server = createServer((_req, res) => {
      asked++;
      if (asked <= 2) res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"pending"}');
      else res.writeHead(200, { 'content-type': 'application/pdf' }).end('%PDF-1.4 receipt');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-banner-'));
    try {
      const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const text = banner({ apiUrl, temporalAddress: '127.0.0.1:7233', metricsUrls: [], bobId: 2 });
      const line = text.split('\n').find((l) => l.includes('/receipt'));
      const command = (line ?? '').trim().replace('<transaction_id>', '3').replaceAll('/tmp/', `${dir}/`);
      await new Promise<void>((resolve, reject) => {
        // The server runs in this process: the command must run beside it, not block it.
        exec(command, { shell: '/bin/bash' }, (error) => (error ? reject(error) : resolve()));
      });
      expect(asked).toBe(3);
      expect(await readFile(path.join(dir, 'receipt.pdf'), 'utf8')).toBe('%PDF-1.4 receipt');
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
