// Telling "Temporal is not there" (wait and retry the whole batch later) from an error about one start.
import { isGrpcServiceError } from '@temporalio/client';

// gRPC status codes: DEADLINE_EXCEEDED 4, RESOURCE_EXHAUSTED 8, UNAVAILABLE 14.
const UNAVAILABLE_CODES = new Set([4, 8, 14]);

export function isTemporalUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && UNAVAILABLE_CODES.has(e.code)) return true;
    // Connection.connect's own failure (no gRPC status yet).
    if (
      e instanceof Error &&
      /TransportError|ECONNREFUSED|connect|UNAVAILABLE/i.test(`${e.name} ${e.message}`)
    ) {
      return true;
    }
  }
  return false;
}
