-- What a party to a hold may see of it. Status is as of now: an open hold past its expiry reads as expired
-- even before anything has written that (reads never write).

CREATE OR REPLACE FUNCTION wallet.holds_for(
  p_user_id bigint, p_status text DEFAULT NULL, p_limit integer DEFAULT 50, p_before bigint DEFAULT NULL)
RETURNS TABLE (hold_id bigint, status text, sender_id bigint, receiver_id bigint, amount numeric,
               captured_amount numeric, transaction_id bigint, created_at timestamptz, expires_at timestamptz,
               closed_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  -- Keyset pagination over two index scans (as sender, as receiver), merged newest first. A status filter
  -- reads further down the index until the page is full.
  WITH mine AS (
    (SELECT h.*, wallet.effective_hold_status(h.status, h.expires_at) AS now_status FROM wallet.holds h
      WHERE h.sender_id = p_user_id AND (p_before IS NULL OR h.id < p_before)
        AND (p_status IS NULL OR wallet.effective_hold_status(h.status, h.expires_at) = p_status)
      ORDER BY h.id DESC LIMIT p_limit)
    UNION ALL
    (SELECT h.*, wallet.effective_hold_status(h.status, h.expires_at) FROM wallet.holds h
      WHERE h.receiver_id = p_user_id AND (p_before IS NULL OR h.id < p_before)
        AND (p_status IS NULL OR wallet.effective_hold_status(h.status, h.expires_at) = p_status)
      ORDER BY h.id DESC LIMIT p_limit)
  )
  SELECT m.id, m.now_status, m.sender_id, m.receiver_id, m.amount, m.captured_amount, m.capture_transaction_id,
         m.created_at, m.expires_at, CASE WHEN m.now_status = 'expired' THEN m.expires_at ELSE m.closed_at END
    FROM mine m
   ORDER BY m.id DESC
   LIMIT p_limit
$$;

CREATE OR REPLACE FUNCTION wallet.hold_for(p_user_id bigint, p_hold_id bigint)
RETURNS TABLE (hold_id bigint, status text, sender_id bigint, receiver_id bigint, amount numeric,
               captured_amount numeric, transaction_id bigint, created_at timestamptz, expires_at timestamptz,
               closed_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT h.id, s.now_status, h.sender_id, h.receiver_id, h.amount, h.captured_amount, h.capture_transaction_id,
         h.created_at, h.expires_at, CASE WHEN s.now_status = 'expired' THEN h.expires_at ELSE h.closed_at END
    FROM wallet.holds h, LATERAL (SELECT wallet.effective_hold_status(h.status, h.expires_at) AS now_status) s
   WHERE h.id = p_hold_id AND p_user_id IN (h.sender_id, h.receiver_id)
$$;
