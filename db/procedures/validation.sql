-- Argument checks shared by the money functions. Each failure has its own SQLSTATE (class W1, see README).

CREATE OR REPLACE FUNCTION wallet.assert_valid_amount(p_amount numeric, p_what text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = wallet, pg_temp
AS $$
BEGIN
  IF p_amount IS NULL OR p_amount <= 0 THEN
    RAISE EXCEPTION 'amount must be positive'
      USING ERRCODE = 'W1005', DETAIL = format('%s amount was %s', p_what, coalesce(p_amount::text, 'NULL'));
  END IF;
  IF p_amount > 1000000000000.00 THEN
    RAISE EXCEPTION 'amount is over the limit'
      USING ERRCODE = 'W1005', DETAIL = format('%s amount was %s, the limit is 1000000000000.00', p_what, p_amount);
  END IF;
  -- Never round: 0.001 is refused, not turned into 0.00.
  IF p_amount <> round(p_amount, 2) THEN
    RAISE EXCEPTION 'amount has more than two decimals'
      USING ERRCODE = 'W1005', DETAIL = format('%s amount was %s', p_what, p_amount);
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION wallet.assert_valid_idempotency_key(p_key text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = wallet, pg_temp
AS $$
BEGIN
  IF p_key IS NOT NULL AND p_key !~ '^[\x20-\x7E]{1,255}$' THEN
    RAISE EXCEPTION 'idempotency key must be 1 to 255 printable ASCII characters'
      USING ERRCODE = 'W1007', DETAIL = format('the key was %s characters long', length(p_key));
  END IF;
END
$$;

-- What a replay must match: the same kind, parties and amount (50 and 50.00 are the same request).
CREATE OR REPLACE FUNCTION wallet.request_fingerprint(
  p_kind text, p_sender_id bigint, p_receiver_id bigint, p_amount numeric)
RETURNS bytea
LANGUAGE sql IMMUTABLE
SET search_path = wallet, pg_temp
AS $$
  SELECT sha256(convert_to(
    concat_ws('|', p_kind, coalesce(p_sender_id::text, '-'), p_receiver_id::text, round(p_amount, 2)::text),
    'UTF8'))
$$;

-- Serialises callers that share one key, and finds the transaction an earlier call made with it.
-- A concurrent holder of the same key gets W1011 at once rather than waiting behind it.
CREATE OR REPLACE FUNCTION wallet.claim_idempotency_key(p_initiator_id bigint, p_key text, p_fingerprint bytea)
RETURNS wallet.transactions
LANGUAGE plpgsql
SET search_path = wallet, pg_temp
AS $$
DECLARE
  earlier wallet.transactions;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended(p_initiator_id::text || ':' || p_key, 7)) THEN
    RAISE EXCEPTION 'idempotency key is in use by another request'
      USING ERRCODE = 'W1011', DETAIL = format('wallet %s, key %s', p_initiator_id, p_key),
            HINT = 'retry when the other request has finished';
  END IF;
  SELECT * INTO earlier FROM wallet.transactions t
   WHERE t.initiator_id = p_initiator_id AND t.idempotency_key = p_key;
  IF FOUND AND earlier.request_fingerprint <> p_fingerprint THEN
    RAISE EXCEPTION 'idempotency key was already used for a different request'
      USING ERRCODE = 'W1006',
            DETAIL = format('wallet %s used key %s for transaction %s (%s of %s)',
                            p_initiator_id, p_key, earlier.id, earlier.kind, earlier.amount);
  END IF;
  RETURN earlier; -- all NULL when the key is new
END
$$;
