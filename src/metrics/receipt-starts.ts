// The API's receipt starts, counted by result (started now, or deferred to the dispatcher) and traced: a span
// per start carrying the transaction id, under which the Temporal client interceptor's StartWorkflow span
// passes the trace context into the workflow and its activities.
import { trace } from '@opentelemetry/api';
import type { ReceiptStarter } from '../api/receipts.js';
import { TRANSACTION_ID_ATTRIBUTE } from '../telemetry/receipt-spans.js';
import { receiptStarts } from './names.js';

const tracer = trace.getTracer('atomic-wallet');

export function countedReceiptStarts(inner: ReceiptStarter): ReceiptStarter {
  return {
    start: (receipt) =>
      tracer.startActiveSpan(
        'receipt.start',
        { attributes: { [TRANSACTION_ID_ATTRIBUTE]: receipt.transactionId } },
        async (span) => {
          try {
            const outcome = await inner.start(receipt);
            receiptStarts.inc({ result: outcome === 'started' ? 'started' : 'deferred' });
            span.setAttribute('wallet.receipt_start', outcome === 'started' ? 'started' : 'deferred');
            return outcome;
          } finally {
            span.end();
          }
        },
      ),
    health: () => inner.health(),
    startState: () => inner.startState(),
    close: () => inner.close(),
  };
}
