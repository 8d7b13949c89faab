// A TCP proxy in front of the test database that a test can cut and restore, as a network failure would:
// cutting it drops every connection through it mid-conversation, without touching the shared server.
import net from 'node:net';
import { findFreePort } from '../../src/net/free-port.js';

export interface DatabaseProxy {
  /** The database URL with the proxy's port. */
  url: string;
  up(): Promise<void>;
  down(): Promise<void>;
}

export async function databaseProxy(target: URL): Promise<DatabaseProxy> {
  const port = await findFreePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const up = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server?.close(resolve));
  };
  await up();
  const url = new URL(target);
  url.port = String(port);
  return { url: url.toString(), up, down };
}
