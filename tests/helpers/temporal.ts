import { findFreePort } from '../../src/net/free-port.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';

const START_ATTEMPTS = 3;

/** A fresh headless, in-memory Temporal dev server on a free port, with the receipt search attributes
 *  unless `searchAttributes: false` asks for a plain one. */
export async function startTestTemporal(opts: { searchAttributes?: boolean } = {}): Promise<DevServer> {
  // The CLI binds more ports than the one given (its HTTP API, metrics and internal services, each a random
  // free port of its own choosing): a server that another test file starts at the same moment can take one
  // between that choice and the bind, and the dev server then exits at start. Such a start is tried again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTemporalDevServer({
        cliPath: resolveTemporalCli(),
        port: await findFreePort(),
        ...opts,
      });
    } catch (error) {
      if (attempt >= START_ATTEMPTS || !String(error).includes('exited early')) throw error;
      console.warn(
        `temporal dev server, attempt ${attempt} of ${START_ATTEMPTS}: ${String(error).slice(0, 500)}`,
      );
    }
  }
}
