-- The same run, with and without chains: wallet.transfer as it was before the books (issue 18), verbatim but
-- for its name, so bench/sql can put the chained transfer beside it. It writes transactions without entries,
-- which leaves the bench database's chains incomplete: this lives in the bench database only, never in db/.
CREATE FUNCTION bench.transfer_unchained(
  p_sender_id bigint, p_receiver_id bigint, p_amount numeric, p_idempotency_key text DEFAULT NULL)
RETURNS TABLE (transaction_id bigint, sender_balance numeric, receiver_balance numeric,
               created_at timestamptz, replayed boolean)
LANGUAGE plpgsql
SECURITY DEFINER
AS $$
DECLARE
  fingerprint pg_catalog.bytea;
  earlier     wallet.transactions;
  from_balance pg_catalog.numeric;
  from_held    pg_catalog.numeric;
  to_balance   pg_catalog.numeric;
  from_found   pg_catalog.bool;
  to_found     pg_catalog.bool;
  made        wallet.transactions;
BEGIN
  IF p_sender_id = p_receiver_id THEN
    RAISE EXCEPTION 'cannot transfer to the same wallet'
      USING ERRCODE = 'W1004', DETAIL = format('sender and receiver are both wallet %s', p_sender_id);
  END IF;
  -- The helper says exactly what is wrong; only a bad amount pays for the nested call.
  IF p_amount IS NULL OR p_amount <= 0 OR p_amount > 1000000000000.00 OR p_amount <> round(p_amount, 2) THEN
    PERFORM wallet.assert_valid_amount(p_amount, 'transfer');
  END IF;

  IF p_idempotency_key IS NOT NULL THEN
    PERFORM wallet.assert_valid_idempotency_key(p_idempotency_key);
    fingerprint := wallet.request_fingerprint('transfer', p_sender_id, p_receiver_id, p_amount);
    earlier := wallet.claim_idempotency_key(p_sender_id, p_idempotency_key, fingerprint);
    IF earlier.id IS NOT NULL THEN
      transaction_id := earlier.id;
      sender_balance := earlier.sender_balance_after;
      receiver_balance := earlier.receiver_balance_after;
      created_at := earlier.created_at;
      replayed := true;
      RETURN NEXT;
      RETURN;
    END IF;
  END IF;

  -- Both rows in one statement, in ascending id order: two transfers in opposite directions lock in the
  -- same order and so can never deadlock.
  SELECT max(l.balance) FILTER (WHERE l.user_id = p_sender_id), max(l.balance) FILTER (WHERE l.user_id = p_receiver_id),
         bool_or(l.user_id = p_sender_id), bool_or(l.user_id = p_receiver_id), max(l.held) FILTER (WHERE l.user_id = p_sender_id)
    INTO from_balance, to_balance, from_found, to_found, from_held
    FROM (SELECT w.user_id, w.balance, w.held FROM wallet.wallets w
           WHERE w.user_id IN (p_sender_id, p_receiver_id)
           ORDER BY w.user_id
             FOR UPDATE) l;

  IF from_found IS NOT TRUE THEN
    RAISE EXCEPTION 'sender wallet not found' USING ERRCODE = 'W1002', DETAIL = format('no wallet %s', p_sender_id);
  END IF;
  IF to_found IS NOT TRUE THEN
    RAISE EXCEPTION 'receiver wallet not found'
      USING ERRCODE = 'W1003', DETAIL = format('no wallet %s', p_receiver_id);
  END IF;
  -- Available = balance - open holds (db/procedures/holds.sql); the helper runs only when that falls short.
  IF from_balance - from_held < p_amount THEN
    PERFORM wallet.check_available(p_sender_id, from_balance, from_held, p_amount, 'transfer');
  END IF;
  IF to_balance > wallet.max_balance() - p_amount THEN
    RAISE EXCEPTION 'receiver balance would exceed the maximum'
      USING ERRCODE = 'W1014', DETAIL = format('wallet %s has %s, the maximum balance is %s',
                                              p_receiver_id, to_balance, wallet.max_balance());
  END IF;

  -- One statement updates both rows (already locked, so its order does not matter).
  UPDATE wallet.wallets w
     SET balance = w.balance + CASE WHEN w.user_id = p_sender_id THEN -p_amount ELSE p_amount END,
         updated_at = now()
   WHERE w.user_id IN (p_sender_id, p_receiver_id);

  INSERT INTO wallet.transactions AS t (kind, sender_id, receiver_id, amount, sender_balance_after,
                                        receiver_balance_after, idempotency_key, request_fingerprint)
  VALUES ('transfer', p_sender_id, p_receiver_id, p_amount, from_balance - p_amount,
          to_balance + p_amount, p_idempotency_key, fingerprint)
  RETURNING t.* INTO made;
  INSERT INTO wallet.receipts (transaction_id) VALUES (made.id);

  -- Filling the OUT columns and RETURN NEXT: no query to run, unlike RETURN QUERY.
  transaction_id := made.id;
  sender_balance := made.sender_balance_after;
  receiver_balance := made.receiver_balance_after;
  created_at := made.created_at;
  replayed := false;
  RETURN NEXT;
END
$$;
-- Called as the API calls wallet.transfer: by wallet_app.
GRANT USAGE ON SCHEMA bench TO wallet_app;
GRANT EXECUTE ON FUNCTION bench.transfer_unchained TO wallet_app;
