import { Connection } from '@temporalio/client';

const READY_TIMEOUT_MS = 60_000;

/** Resolves once a Temporal frontend at `address` answers gRPC; gives up when `running()` turns false. */
export async function waitUntilServing(address: string, running: () => boolean, what: string): Promise<void> {
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
