import { createServer } from 'node:net';

/**
 * Asks the OS for a free TCP port on 127.0.0.1. Another process may take it before the caller binds it, so
 * callers that start servers should treat a bind failure as retryable; in tests this race is rare enough.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}
