import { findFreePort } from '../../src/net/free-port.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';

/** A fresh headless, in-memory Temporal dev server on a free port, with the receipt search attributes. */
export async function startTestTemporal(): Promise<DevServer> {
  return startTemporalDevServer({ cliPath: resolveTemporalCli(), port: await findFreePort() });
}
