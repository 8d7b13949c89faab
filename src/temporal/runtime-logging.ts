// The Temporal SDK's own logging in the worker, set by TEMPORAL_LOG_LEVEL and kept apart from LOG_LEVEL:
// at debug the SDK and its Rust core print hundreds of lines for a start-up and one transfer, which nobody
// asking for the wallet's own debug lines wants.
import { DefaultLogger, type RuntimeOptions } from '@temporalio/worker';
import type { TemporalLogLevel } from '../config.js';

type SdkLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** The logger and the core's filter for Runtime.install. */
export function temporalRuntimeLogging(
  level: TemporalLogLevel,
): Pick<RuntimeOptions, 'logger'> & { coreFilter: SdkLevel } {
  const sdk = level.toUpperCase() as SdkLevel;
  // At warn the SDK's warnings say why an attempt failed (useful), while the core warns on every retried
  // poll during a Temporal outage (noise: the dispatcher and supervisor report an outage once): the core
  // stays at error unless a lower level is asked for on purpose.
  const coreFilter: SdkLevel = level === 'warn' ? 'ERROR' : sdk;
  return { logger: new DefaultLogger(sdk), coreFilter };
}
