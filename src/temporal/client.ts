// A Temporal client for the configured server. Connecting is lazy in the callers: the API must serve
// transfers while Temporal is down.
import { Client, Connection } from '@temporalio/client';

export interface TemporalTarget {
  address: string;
  namespace: string;
}

export async function connectTemporalClient(
  target: TemporalTarget,
  connectTimeoutMs = 2000,
): Promise<Client> {
  const connection = await Connection.connect({ address: target.address, connectTimeout: connectTimeoutMs });
  return new Client({ connection, namespace: target.namespace });
}
