import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/net/free-port.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';
import { RECEIPT_SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';
import { startTestTemporal } from '../helpers/temporal.js';

const INT = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT;
const KEYWORD_LIST = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('temporal dev server', () => {
  let server: DevServer | undefined;

  beforeAll(async () => {
    server = await startTestTemporal();
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
  }, 15_000);

  it('registers the receipt search attributes with their types on the default namespace', async () => {
    expect(RECEIPT_SEARCH_ATTRIBUTES.map((k) => k.name)).toEqual([
      'TransactionId',
      'SenderId',
      'ReceiverId',
      'TransactionIds',
    ]);
    const connection = await Connection.connect({ address: server?.address ?? '' });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({
        namespace: 'default',
      });
      for (const key of RECEIPT_SEARCH_ATTRIBUTES) {
        expect(customAttributes?.[key.name], key.name).toBe(
          key.name === 'TransactionIds' ? KEYWORD_LIST : INT,
        );
      }
    } finally {
      await connection.close();
    }
  });

  it('stop() ends the process and frees the port', async () => {
    if (!server) throw new Error('server did not start');
    const { pid } = server.process;
    const port = Number(server.address.split(':')[1]);
    expect(pid && isAlive(pid)).toBe(true);

    await server.stop();

    expect(server.process.exitCode !== null || server.process.signalCode !== null).toBe(true);
    expect(pid && isAlive(pid)).toBe(false);
    // The port can be bound again, so nothing (e.g. an orphaned child) still listens on it.
    await new Promise<void>((resolve, reject) => {
      const probe = createServer().once('error', reject);
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
    });
    await server.stop(); // idempotent
  }, 15_000);
});

describe('startTemporalDevServer failures', () => {
  it('fails early with the server output when the port is taken', async () => {
    const port = await findFreePort();
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      // That message is written only once the child has exited (on its own: code set, no signal from stop()),
      // so it shows the failure came from the child's exit, not from a readiness timeout; then its output.
      await expect(startTemporalDevServer({ cliPath: resolveTemporalCli(), port })).rejects.toThrow(
        /exited early \(code [1-9]\d*, signal null\):\n[\s\S]*\S/,
      );
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 60_000);

  it('rejects a CLI path that does not exist', async () => {
    await expect(
      startTemporalDevServer({ cliPath: '/nonexistent/temporal', port: await findFreePort() }),
    ).rejects.toThrow(/ENOENT/);
  });
});
