import { findFreePort } from '../../src/net/free-port.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';

/** A fresh headless, in-memory Temporal dev server on a free port, with the receipt search attributes
 *  unless `searchAttributes: false` asks for a plain one. */
export async function startTestTemporal(opts: { searchAttributes?: boolean } = {}): Promise<DevServer> {
  return startTemporalDevServer({ cliPath: resolveTemporalCli(), port: await findFreePort(), ...opts });
}
