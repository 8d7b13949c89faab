-- Refunds: the receiver of a transfer or capture sends (part of) it back to its sender, as often as they like
-- while the refunds sum to at most the original. A refund is a transaction of its own (kind 'refund',
-- refund_of naming the original) with its receipt and an entry on both chains; the original row is never
-- touched. Every refund of one transaction moves money between the same two wallets, so their row locks
-- (ascending, as everywhere) serialise the refunds and the sum read under them is final.
CREATE OR REPLACE FUNCTION wallet.refund(
  p_transaction_id bigint, p_amount numeric DEFAULT NULL, p_idempotency_key text DEFAULT NULL,
  p_acting_user_id bigint DEFAULT NULL)
RETURNS TABLE (transaction_id bigint, refund_of bigint, amount numeric, refunded_total numeric,
               refundable_remaining numeric, sender_balance numeric, receiver_balance numeric, replayed boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  original     wallet.transactions;
  fingerprint  bytea;
  earlier      wallet.transactions;
  from_balance numeric;  -- the refunder's: the original's receiver
  from_held    numeric;
  to_balance   numeric;
  refunded     numeric;
  take         numeric;
  made         wallet.transactions;
BEGIN
  SELECT * INTO original FROM wallet.transactions t WHERE t.id = p_transaction_id;
  -- Over HTTP, a transaction the caller is no party to does not exist for them.
  IF NOT FOUND OR (p_acting_user_id IS NOT NULL AND p_acting_user_id IS DISTINCT FROM original.sender_id
                   AND p_acting_user_id IS DISTINCT FROM original.receiver_id) THEN
    RAISE EXCEPTION 'transaction not found'
      USING ERRCODE = 'W1040', DETAIL = format('no transaction %s', coalesce(p_transaction_id::text, 'NULL'));
  END IF;
  IF original.kind NOT IN ('transfer', 'capture') THEN
    RAISE EXCEPTION 'transaction is not refundable'
      USING ERRCODE = 'W1041',
            DETAIL = format('transaction %s is a %s; only transfers and captures can be refunded',
                            original.id, original.kind);
  END IF;
  IF p_acting_user_id IS NOT NULL AND p_acting_user_id <> original.receiver_id THEN
    RAISE EXCEPTION 'only the receiver of a transaction may refund it'
      USING ERRCODE = 'W1042', DETAIL = format('user %s sent transaction %s; wallet %s received it',
                                              p_acting_user_id, original.id, original.receiver_id);
  END IF;
  IF p_amount IS NOT NULL THEN
    PERFORM wallet.assert_valid_amount(p_amount, format('refund of transaction %s', original.id));
  END IF;

  -- Keys are the refunder's, shared with their transfers (a key reused for another request is W1006).
  IF p_idempotency_key IS NOT NULL THEN
    PERFORM wallet.assert_valid_idempotency_key(p_idempotency_key);
    fingerprint := sha256(convert_to(concat_ws('|', 'refund', original.id, coalesce(round(p_amount, 2)::text, 'rest')),
                                     'UTF8'));
    earlier := wallet.claim_idempotency_key(original.receiver_id, p_idempotency_key, fingerprint);
    IF earlier.id IS NOT NULL THEN
      -- The totals as that refund left them.
      -- ::numeric: RETURN QUERY wants the declared column types exactly, not their domains (migration 0017).
      RETURN QUERY
        SELECT earlier.id, earlier.refund_of, earlier.amount::numeric, s.total, original.amount - s.total,
               earlier.sender_balance_after, earlier.receiver_balance_after, true
          FROM (SELECT sum(t.amount) AS total FROM wallet.transactions t
                 WHERE t.refund_of = original.id AND t.id <= earlier.id) s;
      RETURN;
    END IF;
  END IF;

  SELECT max(l.balance) FILTER (WHERE l.user_id = original.receiver_id),
         max(l.held) FILTER (WHERE l.user_id = original.receiver_id),
         max(l.balance) FILTER (WHERE l.user_id = original.sender_id)
    INTO from_balance, from_held, to_balance
    FROM (SELECT w.user_id, w.balance, w.held FROM wallet.wallets w
           WHERE w.user_id IN (original.sender_id, original.receiver_id)
           ORDER BY w.user_id
             FOR UPDATE) l;
  -- A new statement, so a new snapshot: every refund of this transaction that held these locks before us
  -- has committed and is counted.
  SELECT coalesce(sum(t.amount), 0.00) INTO refunded FROM wallet.transactions t WHERE t.refund_of = original.id;
  take := coalesce(p_amount, original.amount - refunded);
  IF take <= 0 OR take > original.amount - refunded THEN
    RAISE EXCEPTION 'refund exceeds what is left of the transaction'
      USING ERRCODE = 'W1043',
            DETAIL = format('transaction %s of %s has %s refunded and %s left; the refund asks %s',
                            original.id, original.amount, refunded, original.amount - refunded,
                            CASE WHEN p_amount IS NULL THEN 'the rest' ELSE round(take, 2)::text END);
  END IF;
  IF from_balance - from_held < take THEN
    PERFORM wallet.check_available(original.receiver_id, from_balance, from_held, take,
                                   format('refund of transaction %s', original.id));
  END IF;
  IF to_balance > wallet.max_balance() - take THEN
    RAISE EXCEPTION 'receiver balance would exceed the maximum'
      USING ERRCODE = 'W1014', DETAIL = format('wallet %s has %s, the maximum balance is %s',
                                              original.sender_id, to_balance, wallet.max_balance());
  END IF;

  UPDATE wallet.wallets w
     SET balance = w.balance + CASE WHEN w.user_id = original.receiver_id THEN -take ELSE take END,
         updated_at = now()
   WHERE w.user_id IN (original.sender_id, original.receiver_id);
  INSERT INTO wallet.transactions AS t (kind, sender_id, receiver_id, amount, sender_balance_after,
                                        receiver_balance_after, idempotency_key, request_fingerprint, refund_of)
  VALUES ('refund', original.receiver_id, original.sender_id, take, from_balance - take, to_balance + take,
          p_idempotency_key, fingerprint, original.id)
  RETURNING t.* INTO made;
  INSERT INTO wallet.receipts (transaction_id) VALUES (made.id);
  PERFORM wallet.chain_transactions(ARRAY[made.id]);

  RETURN QUERY SELECT made.id, original.id, made.amount::numeric, refunded + made.amount,
                      original.amount - refunded - made.amount,
                      made.sender_balance_after, made.receiver_balance_after, false;
END
$$;
