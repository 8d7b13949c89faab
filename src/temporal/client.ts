// A Temporal client for the configured server. Connecting is lazy in the callers: the API must serve
// transfers while Temporal is down.
import { Client, Connection } from '@temporalio/client';
import { clientInterceptors } from '../telemetry/temporal.js';
import { ensureReceiptSearchAttributes, SearchAttributeSetupError } from './search-attribute-setup.js';

export interface TemporalTarget {
  address: string;
  namespace: string;
}

export async function connectTemporalClient(
  target: TemporalTarget,
  connectTimeoutMs = 2000,
): Promise<Client> {
  const connection = await Connection.connect({ address: target.address, connectTimeout: connectTimeoutMs });
  // The interceptor passes the caller's trace context into the workflow it starts.
  return new Client({ connection, namespace: target.namespace, interceptors: clientInterceptors() });
}

interface SetupLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * The API's client: connected, and the namespace's receipt search attributes checked (created if missing).
 * A refusal is logged and the client returned anyway: transfers go on, starts fail, and /ready says why.
 */
export async function connectWithSearchAttributes(target: TemporalTarget, log: SetupLog): Promise<Client> {
  const client = await connectTemporalClient(target);
  try {
    const created = await client.connection.withDeadline(Date.now() + 5_000, () =>
      ensureReceiptSearchAttributes(client.connection.operatorService, target.namespace),
    );
    if (created.length) log.info({ created }, 'created the receipt search attributes');
  } catch (error) {
    if (!(error instanceof SearchAttributeSetupError)) {
      await client.connection.close().catch(() => undefined);
      throw error; // unreachable: the starter connects again later
    }
    log.error({ reason: error.message }, 'receipt search attributes missing and not creatable');
  }
  return client;
}
