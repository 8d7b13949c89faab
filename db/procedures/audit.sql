-- The books, checked from scratch: one row for every disagreement, none when all is well.
CREATE OR REPLACE FUNCTION wallet.audit()
RETURNS TABLE (problem text, user_id bigint, transaction_id bigint, detail text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  WITH flows AS (
    SELECT w.user_id, w.balance,
           coalesce((SELECT sum(t.amount) FROM wallet.transactions t WHERE t.receiver_id = w.user_id), 0) AS credits,
           coalesce((SELECT sum(t.amount) FROM wallet.transactions t WHERE t.sender_id = w.user_id), 0) AS debits
      FROM wallet.wallets w
  )
  SELECT 'balance_mismatch', f.user_id, NULL::bigint,
         format('wallet %s has %s, its credits minus debits are %s', f.user_id, f.balance, f.credits - f.debits)
    FROM flows f WHERE f.balance <> f.credits - f.debits
  UNION ALL
  SELECT 'negative_balance', w.user_id, NULL, format('wallet %s has %s', w.user_id, w.balance)
    FROM wallet.wallets w WHERE w.balance < 0
  UNION ALL
  SELECT 'total_mismatch', NULL, NULL, format('balances total %s, deposits total %s', b.total, d.total)
    FROM (SELECT coalesce(sum(balance), 0) AS total FROM wallet.wallets) b,
         (SELECT coalesce(sum(amount), 0) AS total FROM wallet.transactions WHERE kind = 'deposit') d
   WHERE b.total <> d.total
  UNION ALL
  SELECT 'missing_receipt', coalesce(t.sender_id, t.receiver_id), t.id,
         format('transaction %s has no receipt row', t.id)
    FROM wallet.transactions t WHERE NOT EXISTS (SELECT 1 FROM wallet.receipts r WHERE r.transaction_id = t.id)
  UNION ALL
  -- Holds: each wallet's cached total and earliest expiry are those of its open holds, and what is available
  -- (balance minus open, unexpired holds) is never negative.
  SELECT 'held_mismatch', w.user_id, NULL,
         format('wallet %s records %s held (earliest expiry %s), its open holds total %s (earliest %s)',
                w.user_id, w.held, coalesce(w.holds_expire_at::text, 'none'), o.total, coalesce(o.earliest::text, 'none'))
    FROM wallet.wallets w
    CROSS JOIN LATERAL (SELECT coalesce(sum(h.amount), 0) AS total, min(h.expires_at) AS earliest FROM wallet.holds h
                         WHERE h.sender_id = w.user_id AND h.status = 'open') o
   WHERE w.held <> o.total OR w.holds_expire_at IS DISTINCT FROM o.earliest
  UNION ALL
  SELECT 'negative_available', w.user_id, NULL, format('wallet %s has %s, open unexpired holds total %s',
                                                       w.user_id, w.balance, u.total)
    FROM wallet.wallets w
    CROSS JOIN LATERAL (SELECT coalesce(sum(h.amount), 0) AS total FROM wallet.holds h
                         WHERE h.sender_id = w.user_id AND h.status = 'open' AND h.expires_at > clock_timestamp()) u
   WHERE w.balance < u.total
  UNION ALL
  -- Every capture settles exactly one captured hold, between its parties, for at most its amount.
  SELECT 'capture_mismatch', t.sender_id, t.id,
         format('capture %s of %s matches no captured hold of %s to %s for at least that much',
                t.id, t.amount, t.sender_id, t.receiver_id)
    FROM wallet.transactions t
   WHERE t.kind = 'capture' AND NOT EXISTS (
           SELECT 1 FROM wallet.holds h WHERE h.capture_transaction_id = t.id AND h.status = 'captured'
              AND h.sender_id = t.sender_id AND h.receiver_id = t.receiver_id
              AND h.captured_amount = t.amount AND h.amount >= t.amount)
  -- What the dropped foreign keys enforced on insert: only the ledger functions write, and they never do this.
  UNION ALL
  SELECT 'unknown_wallet', coalesce(t.sender_id, t.receiver_id), t.id,
         format('transaction %s names a wallet that does not exist', t.id)
    FROM wallet.transactions t
   WHERE NOT EXISTS (SELECT 1 FROM wallet.wallets w WHERE w.user_id = t.receiver_id)
      OR (t.sender_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM wallet.wallets w WHERE w.user_id = t.sender_id))
  UNION ALL
  SELECT 'orphan_receipt', NULL, r.transaction_id, format('receipt %s has no transaction', r.transaction_id)
    FROM wallet.receipts r WHERE NOT EXISTS (SELECT 1 FROM wallet.transactions t WHERE t.id = r.transaction_id)
  UNION ALL
  -- A refund gives back (part of) a transfer or capture to its sender, and refunds never sum above it.
  SELECT 'refund_mismatch', t.sender_id, t.id,
         format('refund %s of %s does not give back transaction %s (a transfer or capture from %s to %s of at least that much)',
                t.id, t.amount, t.refund_of, t.receiver_id, t.sender_id)
    FROM wallet.transactions t
   WHERE t.kind = 'refund' AND NOT EXISTS (
           SELECT 1 FROM wallet.transactions o WHERE o.id = t.refund_of AND o.kind IN ('transfer', 'capture')
              AND o.sender_id = t.receiver_id AND o.receiver_id = t.sender_id AND o.id < t.id
              AND o.amount >= (SELECT sum(x.amount) FROM wallet.transactions x WHERE x.refund_of = o.id))
  UNION ALL
  -- The hash chains (wallet.verify): each problem as an audit row.
  SELECT v.problem, v.user_id, v.transaction_id,
         format('hash chain of wallet %s, entry %s: %s (see wallet.verify)', v.user_id, v.entry, v.problem)
    FROM wallet.verify() v
$$;
