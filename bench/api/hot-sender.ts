// The hot sender over HTTP: one user sending single transfers, then batches of BATCH_ITEMS, from every
// connection at once. Its row lock makes each commit wait for the previous one, so transfers/s is bounded
// by commits/s; a batch moves BATCH_ITEMS per commit.
import autocannon from 'autocannon';
import { BATCH_ITEMS } from '../sql/scripts.js';

export interface HotSenderResult {
  singlePerS: number;
  batchItemsPerS: number;
  statuses: string;
}

export async function hotSenderRuns(
  base: string,
  senderAuth: string,
  receiverIds: number[],
  connections: number,
  seconds: number,
  next: () => number,
): Promise<HotSenderResult> {
  const pick = () => receiverIds[Math.floor(next() * receiverIds.length)];
  const headers = { 'content-type': 'application/json', authorization: senderAuth };
  const run = (path: string, body: () => unknown) =>
    autocannon({
      url: base,
      connections,
      duration: seconds,
      requests: [
        { method: 'POST', path, setupRequest: (r) => ({ ...r, headers, body: JSON.stringify(body()) }) },
      ],
    });
  const single = await run('/api/wallet/transfer/', () => ({ receiver_id: pick(), amount: '0.01' }));
  const batch = await run('/api/wallet/transfer/batch/', () => ({
    transfers: Array.from({ length: BATCH_ITEMS }, () => ({ receiver_id: pick(), amount: '0.01' })),
  }));
  const ok = (r: autocannon.Result) =>
    r.statusCodeStats?.['201' as keyof typeof r.statusCodeStats]?.count ?? 0;
  const statuses = [single, batch]
    .map((r) =>
      Object.entries(r.statusCodeStats ?? {})
        .map(([code, s]) => `${code}: ${s.count ?? 0}`)
        .join(' '),
    )
    .join(' / ');
  return { singlePerS: ok(single) / seconds, batchItemsPerS: (ok(batch) * BATCH_ITEMS) / seconds, statuses };
}
