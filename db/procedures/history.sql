-- What a user may see of the ledger: only transactions they are party to.

-- How much of a transaction has been refunded: 0.00 for a transfer or capture never refunded, NULL for the
-- kinds that cannot be (deposits, refunds).
CREATE OR REPLACE FUNCTION wallet.refunded_total(p_transaction_id bigint, p_kind text)
RETURNS numeric
LANGUAGE sql STABLE
SET search_path = wallet, pg_temp
AS $$
  SELECT CASE WHEN p_kind IN ('transfer', 'capture')
              THEN (SELECT coalesce(sum(t.amount), 0.00) FROM wallet.transactions t WHERE t.refund_of = p_transaction_id)
         END
$$;

-- One shape for a transaction as seen by one of its parties (refund_of: the transaction a refund gives back).
CREATE OR REPLACE FUNCTION wallet.history(p_user_id bigint, p_limit integer DEFAULT 50, p_before bigint DEFAULT NULL)
RETURNS TABLE (id bigint, kind text, direction text, counterparty_id bigint, amount numeric,
               created_at timestamptz, receipt_status text, refund_of bigint, refunded_total numeric)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  -- Keyset pagination over two index scans (sent, received), merged newest first.
  WITH mine AS (
    (SELECT t.* FROM wallet.transactions t
      WHERE t.sender_id = p_user_id AND (p_before IS NULL OR t.id < p_before)
      ORDER BY t.id DESC LIMIT p_limit)
    UNION ALL
    (SELECT t.* FROM wallet.transactions t
      WHERE t.receiver_id = p_user_id AND (p_before IS NULL OR t.id < p_before)
      ORDER BY t.id DESC LIMIT p_limit)
  )
  SELECT m.id, m.kind,
         CASE WHEN m.receiver_id = p_user_id THEN 'received' ELSE 'sent' END,
         CASE WHEN m.receiver_id = p_user_id THEN m.sender_id ELSE m.receiver_id END,
         m.amount, m.created_at, r.status, m.refund_of, wallet.refunded_total(m.id, m.kind)
    FROM mine m JOIN wallet.receipts r ON r.transaction_id = m.id
   ORDER BY m.id DESC
   LIMIT p_limit
$$;

CREATE OR REPLACE FUNCTION wallet.transaction_for(p_user_id bigint, p_transaction_id bigint)
RETURNS TABLE (id bigint, kind text, direction text, counterparty_id bigint, amount numeric,
               created_at timestamptz, receipt_status text, refund_of bigint, refunded_total numeric)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT t.id, t.kind,
         CASE WHEN t.receiver_id = p_user_id THEN 'received' ELSE 'sent' END,
         CASE WHEN t.receiver_id = p_user_id THEN t.sender_id ELSE t.receiver_id END,
         t.amount, t.created_at, r.status, t.refund_of, wallet.refunded_total(t.id, t.kind)
    FROM wallet.transactions t JOIN wallet.receipts r ON r.transaction_id = t.id
   WHERE t.id = p_transaction_id AND (t.sender_id = p_user_id OR t.receiver_id = p_user_id)
$$;
