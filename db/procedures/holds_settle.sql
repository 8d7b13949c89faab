-- How a hold ends: captured (money moves, as a transaction of kind 'capture'), released, or expired. Lock
-- order as in holds.sql: wallets ascending, then the hold row; the hold's terms are read before any lock
-- (they never change), its status after the locks (it changes only under the sender's wallet lock).

-- The hold as the caller may act on it: W1021 when it does not exist, or when an acting user is given who is
-- not a party; W1024 when that user is the sender (only the receiver settles a hold over HTTP).
CREATE OR REPLACE FUNCTION wallet.hold_to_settle(p_hold_id bigint, p_acting_user_id bigint)
RETURNS wallet.holds
LANGUAGE plpgsql STABLE
SET search_path = wallet, pg_temp
AS $$
DECLARE
  h wallet.holds;
BEGIN
  SELECT * INTO h FROM wallet.holds x WHERE x.id = p_hold_id;
  IF NOT FOUND OR (p_acting_user_id IS NOT NULL AND p_acting_user_id NOT IN (h.sender_id, h.receiver_id)) THEN
    RAISE EXCEPTION 'hold not found' USING ERRCODE = 'W1021', DETAIL = format('no hold %s', p_hold_id);
  END IF;
  IF p_acting_user_id = h.sender_id THEN
    RAISE EXCEPTION 'only the receiver of a hold may settle it'
      USING ERRCODE = 'W1024', DETAIL = format('user %s is the sender of hold %s', p_acting_user_id, p_hold_id);
  END IF;
  RETURN h;
END
$$;

-- Re-reads the hold under the sender's wallet lock; W1022 unless it is still open and unexpired. The
-- message names the outcome that won (captured, released or expired).
CREATE OR REPLACE FUNCTION wallet.open_hold(p_hold_id bigint)
RETURNS wallet.holds
LANGUAGE plpgsql
SET search_path = wallet, pg_temp
AS $$
DECLARE
  h wallet.holds;
  status text;
BEGIN
  SELECT * INTO h FROM wallet.holds x WHERE x.id = p_hold_id;
  status := wallet.effective_hold_status(h.status, h.expires_at);
  IF status <> 'open' THEN
    RAISE EXCEPTION 'hold is already %', status
      USING ERRCODE = 'W1022', DETAIL = format('hold %s of %s is %s', h.id, h.amount, status);
  END IF;
  RETURN h;
END
$$;

-- Takes the hold off its sender's cached total; the caller holds the sender's wallet lock.
CREATE OR REPLACE FUNCTION wallet.unhold(h wallet.holds, p_balance_change numeric)
RETURNS numeric
LANGUAGE sql
SET search_path = wallet, pg_temp
AS $$
  UPDATE wallet.wallets w
     SET balance = w.balance + p_balance_change, held = w.held - h.amount, updated_at = now(),
         holds_expire_at = CASE WHEN w.holds_expire_at < h.expires_at THEN w.holds_expire_at
                                ELSE (SELECT min(x.expires_at) FROM wallet.holds x
                                       WHERE x.sender_id = h.sender_id AND x.status = 'open' AND x.id <> h.id) END
   WHERE w.user_id = h.sender_id
  RETURNING w.balance
$$;

CREATE OR REPLACE FUNCTION wallet.capture(
  p_hold_id bigint, p_amount numeric DEFAULT NULL, p_idempotency_key text DEFAULT NULL,
  p_acting_user_id bigint DEFAULT NULL)
RETURNS TABLE (transaction_id bigint, sender_balance numeric, receiver_balance numeric,
               created_at timestamptz, replayed boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  h           wallet.holds := wallet.hold_to_settle(p_hold_id, p_acting_user_id);
  take        numeric := coalesce(p_amount, h.amount);
  fingerprint bytea;
  earlier     wallet.holds;
  from_balance numeric;
  to_balance  numeric;
  made        wallet.transactions;
BEGIN
  PERFORM wallet.assert_valid_amount(take, 'capture');
  IF p_idempotency_key IS NOT NULL THEN
    fingerprint := sha256(convert_to(concat_ws('|', 'capture', h.id, round(take, 2)), 'UTF8'));
    earlier := wallet.claim_hold_key('capture', h.receiver_id, p_idempotency_key, fingerprint);
    IF earlier.id IS NOT NULL THEN
      RETURN QUERY SELECT t.id, t.sender_balance_after, t.receiver_balance_after, t.created_at, true
                     FROM wallet.transactions t WHERE t.id = earlier.capture_transaction_id;
      RETURN;
    END IF;
  END IF;

  PERFORM 1 FROM wallet.wallets w WHERE w.user_id IN (h.sender_id, h.receiver_id) ORDER BY w.user_id FOR UPDATE;
  h := wallet.open_hold(h.id);
  IF take > h.amount THEN
    RAISE EXCEPTION 'capture exceeds the hold'
      USING ERRCODE = 'W1023', DETAIL = format('hold %s is for %s, capture asks %s', h.id, h.amount, round(take, 2));
  END IF;
  SELECT w.balance INTO to_balance FROM wallet.wallets w WHERE w.user_id = h.receiver_id;
  IF to_balance > wallet.max_balance() - take THEN
    RAISE EXCEPTION 'receiver balance would exceed the maximum'
      USING ERRCODE = 'W1014', DETAIL = format('wallet %s has %s, the maximum balance is %s',
                                              h.receiver_id, to_balance, wallet.max_balance());
  END IF;

  from_balance := wallet.unhold(h, -take);
  UPDATE wallet.wallets w SET balance = w.balance + take, updated_at = now() WHERE w.user_id = h.receiver_id;
  INSERT INTO wallet.transactions AS t (kind, sender_id, receiver_id, amount, sender_balance_after,
                                        receiver_balance_after)
  VALUES ('capture', h.sender_id, h.receiver_id, take, from_balance, to_balance + take)
  RETURNING t.* INTO made;
  INSERT INTO wallet.receipts (transaction_id) VALUES (made.id);  -- the outbox row, as transfer writes it
  PERFORM wallet.chain_transactions(ARRAY[made.id]);  -- an entry on each party's chain
  UPDATE wallet.holds x
     SET status = 'captured', closed_at = made.created_at, captured_amount = take,
         capture_transaction_id = made.id, capture_idempotency_key = p_idempotency_key,
         capture_fingerprint = fingerprint
   WHERE x.id = h.id;

  RETURN QUERY SELECT made.id, made.sender_balance_after, made.receiver_balance_after, made.created_at, false;
END
$$;

CREATE OR REPLACE FUNCTION wallet.release(p_hold_id bigint, p_acting_user_id bigint DEFAULT NULL)
RETURNS TABLE (hold_id bigint, status text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  h wallet.holds := wallet.hold_to_settle(p_hold_id, p_acting_user_id);
BEGIN
  PERFORM 1 FROM wallet.wallets w WHERE w.user_id = h.sender_id FOR UPDATE;
  h := wallet.open_hold(h.id);
  PERFORM wallet.unhold(h, 0);
  UPDATE wallet.holds x SET status = 'released', closed_at = clock_timestamp() WHERE x.id = h.id;
  RETURN QUERY SELECT h.id, 'released'::text;
END
$$;

-- Bookkeeping only (correctness never waits for it): marks the due holds of up to p_wallets senders expired,
-- skipping wallets a transfer holds right now. Returns how many wallets it swept.
CREATE OR REPLACE FUNCTION wallet.sweep_expired_holds(p_wallets integer DEFAULT 100)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  sender bigint;
  swept  integer := 0;
BEGIN
  FOR sender IN SELECT DISTINCT h.sender_id FROM wallet.holds h
                 WHERE h.status = 'open' AND h.expires_at <= clock_timestamp() ORDER BY 1 LIMIT p_wallets LOOP
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM wallet.wallets w WHERE w.user_id = sender FOR UPDATE SKIP LOCKED);
    PERFORM wallet.expire_due_holds(sender);
    swept := swept + 1;
  END LOOP;
  RETURN swept;
END
$$;
