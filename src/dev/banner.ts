// What a newcomer needs once everything is up: where things are, how to log in, two commands to paste.
import { DEMO_USERS } from './demo-users.js';

export function banner(opts: {
  apiUrl: string;
  temporalUiUrl?: string;
  temporalAddress: string;
  /** The API's, the worker's and the Temporal SDK's /metrics. */
  metricsUrls: string[];
  bobId: number;
}) {
  const [alice, bob] = DEMO_USERS;
  const auth = `${alice.username}:${alice.password}`;
  return [
    '',
    'The atomic wallet is up.',
    `  API          ${opts.apiUrl}`,
    `  Swagger UI   ${opts.apiUrl}/docs`,
    `  Temporal UI  ${opts.temporalUiUrl ?? `(not started here; server at ${opts.temporalAddress})`}`,
    `  Metrics      ${opts.metricsUrls.join('  ')}`,
    `  Demo users   ${alice.username} / ${alice.password}    ${bob.username} / ${bob.password}`,
    '',
    'Send 25.00 from alice to bob:',
    `  curl -s -u ${auth} -H 'Content-Type: application/json' -H 'Idempotency-Key: try-1' \\`,
    `    -d '{"receiver_id": ${opts.bobId}, "amount": "25.00"}' ${opts.apiUrl}/api/wallet/transfer/`,
    // 202 while rendering, with a JSON body: repeat until 200, so the file ends up holding the PDF.
    'Save its receipt as a PDF (use the transaction_id printed by the transfer):',
    `  while [ "$(curl -s -u ${auth} -o /tmp/receipt.pdf -w '%{http_code}' ${opts.apiUrl}/api/wallet/transactions/<transaction_id>/receipt)" = 202 ]; do sleep 1; done`,
    '',
    'Ctrl-C stops everything started here.',
    '',
  ].join('\n');
}
