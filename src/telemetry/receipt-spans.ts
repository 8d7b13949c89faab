// The receipt's own spans (print, store, dispatcher start), each with the transaction id, so a trace viewer
// finds a receipt's work by `wallet.transaction_id`; and the rendered-receipts counter, at the one place that
// knows a receipt was stored by this run.
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { receiptsRendered } from '../metrics/names.js';

export const TRANSACTION_ID_ATTRIBUTE = 'wallet.transaction_id';
const tracer = trace.getTracer('atomic-wallet');

export function receiptSpan<T>(name: string, transactionId: number, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes: { [TRANSACTION_ID_ATTRIBUTE]: transactionId } }, (span) =>
    work().then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
        span.end();
        throw error;
      },
    ),
  );
}

/** Counts a receipt this run stored (storedNow); returns it unchanged. */
export function countRendered<T extends { storedNow: boolean }>(stored: T): T {
  if (stored.storedNow) receiptsRendered.inc();
  return stored;
}
