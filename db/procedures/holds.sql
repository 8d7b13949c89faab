-- Holds: authorize now, capture or release later. Lock order, everywhere: wallets in ascending id order, then
-- hold rows. Every change of a hold's status happens under its sender's wallet lock, so that lock alone
-- decides which of capture, release and expiry wins; a hold row is never locked before a wallet.
-- Time is clock_timestamp() taken after the locks: a later reader never sees an earlier expiry undone.

-- The funds check every money function shares (transfer, hold, later transfer_batch), called only when the
-- sender's balance minus its cached total of open holds falls short: the caller holds the sender's wallet
-- lock and passes what it read from that row. If the earliest open hold is due, the due holds expire now and
-- the check runs on the recomputed total. Raises W1001 naming balance, held and available.
CREATE OR REPLACE FUNCTION wallet.check_available(
  p_wallet_id bigint, p_balance numeric, p_held numeric, p_needed numeric, p_what text)
RETURNS numeric
LANGUAGE plpgsql
SET search_path = wallet, pg_temp
AS $$
DECLARE
  held numeric := p_held;
BEGIN
  IF p_balance - held < p_needed
     AND (SELECT w.holds_expire_at <= clock_timestamp() FROM wallet.wallets w WHERE w.user_id = p_wallet_id) THEN
    held := wallet.expire_due_holds(p_wallet_id);
  END IF;
  IF p_balance - held < p_needed THEN
    RAISE EXCEPTION 'insufficient funds'
      USING ERRCODE = 'W1001',
            DETAIL = format('wallet %s has %s, %s held, %s available; %s needs %s',
                            p_wallet_id, p_balance, held, p_balance - held, p_what, round(p_needed, 2));
  END IF;
  RETURN p_balance - held;
END
$$;

-- Marks the wallet's due holds expired and recomputes its cached total and earliest expiry; returns the new
-- total. The caller holds the wallet's lock.
CREATE OR REPLACE FUNCTION wallet.expire_due_holds(p_wallet_id bigint)
RETURNS numeric
LANGUAGE plpgsql
SET search_path = wallet, pg_temp
AS $$
DECLARE
  at    timestamptz := clock_timestamp();
  freed numeric;
  held  numeric;
BEGIN
  WITH due AS (
    UPDATE wallet.holds h SET status = 'expired', closed_at = h.expires_at
     WHERE h.sender_id = p_wallet_id AND h.status = 'open' AND h.expires_at <= at
    RETURNING h.amount
  )
  SELECT coalesce(sum(amount), 0) INTO freed FROM due;
  UPDATE wallet.wallets w
     SET held = w.held - freed,
         holds_expire_at = (SELECT min(h.expires_at) FROM wallet.holds h
                             WHERE h.sender_id = p_wallet_id AND h.status = 'open')
   WHERE w.user_id = p_wallet_id
  RETURNING w.held INTO held;
  RETURN held;
END
$$;

-- A hold's status as of now: an open hold past its expiry is expired, whether or not anything has written it.
CREATE OR REPLACE FUNCTION wallet.effective_hold_status(p_status text, p_expires_at timestamptz)
RETURNS text
LANGUAGE sql STABLE
SET search_path = wallet, pg_temp
AS $$ SELECT CASE WHEN p_status = 'open' AND p_expires_at <= clock_timestamp() THEN 'expired' ELSE p_status END $$;

CREATE OR REPLACE FUNCTION wallet.hold(
  p_sender_id bigint, p_receiver_id bigint, p_amount numeric, p_expires_in interval DEFAULT '7 days',
  p_idempotency_key text DEFAULT NULL)
RETURNS TABLE (hold_id bigint, available_balance numeric, expires_at timestamptz, replayed boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  fingerprint bytea;
  earlier     wallet.holds;
  from_balance   numeric;
  from_held      numeric;
  from_found     boolean;
  to_found       boolean;
  available      numeric;
  made        wallet.holds;
BEGIN
  IF p_sender_id = p_receiver_id THEN
    RAISE EXCEPTION 'cannot hold money for the same wallet'
      USING ERRCODE = 'W1004', DETAIL = format('sender and receiver are both wallet %s', p_sender_id);
  END IF;
  PERFORM wallet.assert_valid_amount(p_amount, 'hold');
  IF p_expires_in IS NULL OR p_expires_in < interval '1 second' OR p_expires_in > interval '90 days' THEN
    RAISE EXCEPTION 'hold expiry must be from 1 second to 90 days'
      USING ERRCODE = 'W1020', DETAIL = format('expires_in was %s', coalesce(p_expires_in::text, 'NULL'));
  END IF;

  IF p_idempotency_key IS NOT NULL THEN
    fingerprint := sha256(convert_to(concat_ws('|', 'hold', p_sender_id, p_receiver_id, round(p_amount, 2),
                                               extract(epoch FROM p_expires_in)), 'UTF8'));
    earlier := wallet.claim_hold_key('hold', p_sender_id, p_idempotency_key, fingerprint);
    IF earlier.id IS NOT NULL THEN
      RETURN QUERY SELECT earlier.id, earlier.sender_available_after, earlier.expires_at, true;
      RETURN;
    END IF;
  END IF;

  -- Both wallets, ascending, as a transfer locks them: the new row references the receiver's key.
  SELECT max(l.balance) FILTER (WHERE l.user_id = p_sender_id), max(l.held) FILTER (WHERE l.user_id = p_sender_id),
         bool_or(l.user_id = p_sender_id), bool_or(l.user_id = p_receiver_id)
    INTO from_balance, from_held, from_found, to_found
    FROM (SELECT x.user_id, x.balance, x.held FROM wallet.wallets x
           WHERE x.user_id IN (p_sender_id, p_receiver_id) ORDER BY x.user_id FOR UPDATE) l;
  IF from_found IS NOT TRUE THEN
    RAISE EXCEPTION 'sender wallet not found' USING ERRCODE = 'W1002', DETAIL = format('no wallet %s', p_sender_id);
  END IF;
  IF to_found IS NOT TRUE THEN
    RAISE EXCEPTION 'receiver wallet not found' USING ERRCODE = 'W1003', DETAIL = format('no wallet %s', p_receiver_id);
  END IF;
  available := wallet.check_available(p_sender_id, from_balance, from_held, p_amount, 'hold');

  INSERT INTO wallet.holds AS h (sender_id, receiver_id, amount, expires_at, sender_available_after,
                                 idempotency_key, request_fingerprint)
  VALUES (p_sender_id, p_receiver_id, p_amount, clock_timestamp() + p_expires_in, available - p_amount,
          p_idempotency_key, fingerprint)
  RETURNING h.* INTO made;
  UPDATE wallet.wallets x
     SET held = x.held + made.amount, holds_expire_at = least(x.holds_expire_at, made.expires_at)
   WHERE x.user_id = p_sender_id;

  RETURN QUERY SELECT made.id, made.sender_available_after, made.expires_at, false;
END
$$;

-- Serialises callers sharing one key (W1011 at once for the second) and finds the hold an earlier call
-- with it made or captured. Hold keys are scoped to the sender, capture keys to the receiver; both are
-- separate from transfer keys.
CREATE OR REPLACE FUNCTION wallet.claim_hold_key(p_kind text, p_initiator_id bigint, p_key text, p_fingerprint bytea)
RETURNS wallet.holds
LANGUAGE plpgsql
SET search_path = wallet, pg_temp
AS $$
DECLARE
  earlier wallet.holds;
BEGIN
  PERFORM wallet.assert_valid_idempotency_key(p_key);
  IF NOT pg_try_advisory_xact_lock(hashtextextended(p_kind || ':' || p_initiator_id || ':' || p_key, 7)) THEN
    RAISE EXCEPTION 'idempotency key is in use by another request'
      USING ERRCODE = 'W1011', DETAIL = format('wallet %s, %s key %s', p_initiator_id, p_kind, p_key),
            HINT = 'retry when the other request has finished';
  END IF;
  IF p_kind = 'hold' THEN
    SELECT * INTO earlier FROM wallet.holds h WHERE h.sender_id = p_initiator_id AND h.idempotency_key = p_key;
  ELSE
    SELECT * INTO earlier FROM wallet.holds h
     WHERE h.receiver_id = p_initiator_id AND h.capture_idempotency_key = p_key;
  END IF;
  IF FOUND AND (CASE p_kind WHEN 'hold' THEN earlier.request_fingerprint ELSE earlier.capture_fingerprint END)
               <> p_fingerprint THEN
    RAISE EXCEPTION 'idempotency key was already used for a different request'
      USING ERRCODE = 'W1006',
            DETAIL = format('wallet %s used %s key %s for hold %s of %s', p_initiator_id, p_kind, p_key,
                            earlier.id, earlier.amount);
  END IF;
  RETURN earlier; -- all NULL when the key is new
END
$$;
