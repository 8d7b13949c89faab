// Why receipt workflow starts fail, in one sentence an operator can act on (for /ready). Never the raw error:
// it would carry server internals to an unauthenticated caller.
import { isGrpcServiceError } from '@temporalio/client';

const INVALID_ARGUMENT = 3;
const DEADLINE_EXCEEDED = 4;
const NOT_FOUND = 5;
const PERMISSION_DENIED = 7;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;

/** The gRPC error behind an SDK error (the client wraps them in ServiceError with a cause). */
function grpcCause(error: unknown): { code: number; details: string } | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e)) return { code: e.code, details: e.details ?? '' };
  }
  return undefined;
}

export function describeStartFailure(error: unknown): string {
  if (error === 'timeout') return 'workflow starts time out: Temporal is slow or unreachable';
  const grpc = grpcCause(error);
  if (!grpc) return 'Temporal is unreachable';
  if (grpc.code === INVALID_ARGUMENT && /search attribute/i.test(grpc.details)) {
    return 'the Temporal namespace lacks the receipt search attributes (the worker creates them at start; see README, For operators)';
  }
  if (grpc.code === PERMISSION_DENIED || grpc.code === UNAUTHENTICATED)
    return 'Temporal refuses workflow starts (permission denied)';
  if (grpc.code === NOT_FOUND) return 'the Temporal namespace does not exist';
  if (grpc.code === UNAVAILABLE || grpc.code === DEADLINE_EXCEEDED) return 'Temporal is unreachable';
  return `Temporal refuses workflow starts (gRPC status ${grpc.code})`;
}
