-- The two ways money moves. Each is one call, one transaction: lock, check, update, append, outbox.
-- The receipt outbox row is written with its transaction; the dispatcher polls for pending rows (no NOTIFY:
-- PostgreSQL serialises every notifying commit on one global lock).
--
-- The hot functions are SECURITY DEFINER without a SET search_path: a per-function SET costs a GUC save and
-- restore on every call and keeps SQL functions from being inlined. Instead every table and type they name is
-- schema-qualified (types too, since pg_temp is searched first for types), and operators and functions
-- resolve in pg_catalog, which comes first unless the caller lists it later behind a schema it may create
-- objects in: no caller role may (wallet_app has no CREATE anywhere; pg_temp is never searched for them).

-- What numeric(20,2) can hold: a clear error instead of a numeric overflow.
CREATE OR REPLACE FUNCTION wallet.max_balance()
RETURNS numeric
LANGUAGE sql IMMUTABLE
AS $$ SELECT 999999999999999999.99::pg_catalog.numeric $$;

CREATE OR REPLACE FUNCTION wallet.transfer(
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
  txid        pg_catalog.int8;
  stamp       pg_catalog.timestamptz;
  made_at     pg_catalog.timestamptz;
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

  -- One statement moves the money and appends both chains' entries (docs/books.md): each wallet's balance and
  -- head advance in one UPDATE of its already locked row (so its order does not matter), whose new values
  -- are the entries; the id comes first because the entries' hashes cover it. An entry's time is the clock
  -- after the locks, or the wallet's head time if that is later: per wallet, time never runs backwards.
  txid := nextval('wallet.transactions_id_seq'::pg_catalog.regclass);
  stamp := clock_timestamp();
  WITH moved AS (
    UPDATE wallet.wallets w
       SET balance = w.balance + CASE WHEN w.user_id = p_sender_id THEN -p_amount ELSE p_amount END,
           updated_at = now(),
           entries = w.entries + 1,
           head_at = greatest(stamp, w.head_at),
           head_hash = wallet.entry_hash(
             coalesce(w.head_hash, wallet.genesis(w.user_id)), w.user_id, w.entries + 1, txid, 'transfer',
             CASE WHEN w.user_id = p_sender_id THEN p_receiver_id ELSE p_sender_id END,
             CASE WHEN w.user_id = p_sender_id THEN -p_amount ELSE p_amount END,
             w.balance + CASE WHEN w.user_id = p_sender_id THEN -p_amount ELSE p_amount END,
             greatest(stamp, w.head_at))
     WHERE w.user_id IN (p_sender_id, p_receiver_id)
    RETURNING w.user_id, w.entries, w.balance, w.head_at, w.head_hash
  ), chained AS (
    INSERT INTO wallet.entries (user_id, entry, transaction_id, kind, counterparty_id, amount, balance_after,
                                created_at, hash)
    SELECT m.user_id, m.entries, txid, 'transfer',
           CASE WHEN m.user_id = p_sender_id THEN p_receiver_id ELSE p_sender_id END,
           CASE WHEN m.user_id = p_sender_id THEN -p_amount ELSE p_amount END, m.balance, m.head_at, m.head_hash
      FROM moved m
  ), outbox AS (
    INSERT INTO wallet.receipts (transaction_id) VALUES (txid)
  )
  INSERT INTO wallet.transactions AS t (id, kind, sender_id, receiver_id, amount, sender_balance_after,
                                        receiver_balance_after, idempotency_key, request_fingerprint)
  OVERRIDING SYSTEM VALUE
  VALUES (txid, 'transfer', p_sender_id, p_receiver_id, p_amount, from_balance - p_amount,
          to_balance + p_amount, p_idempotency_key, fingerprint)
  RETURNING t.created_at INTO made_at;

  -- Filling the OUT columns and RETURN NEXT: no query to run, unlike RETURN QUERY.
  transaction_id := txid;
  sender_balance := from_balance - p_amount;
  receiver_balance := to_balance + p_amount;
  created_at := made_at;
  replayed := false;
  RETURN NEXT;
END
$$;

CREATE OR REPLACE FUNCTION wallet.deposit(p_user_id bigint, p_amount numeric, p_idempotency_key text DEFAULT NULL)
RETURNS TABLE (transaction_id bigint, balance numeric, created_at timestamptz, replayed boolean)
LANGUAGE plpgsql
SECURITY DEFINER
AS $$
DECLARE
  fingerprint pg_catalog.bytea;
  earlier     wallet.transactions;
  new_balance pg_catalog.numeric;
  made        wallet.transactions;
BEGIN
  PERFORM wallet.assert_valid_amount(p_amount, 'deposit');

  IF p_idempotency_key IS NOT NULL THEN
    PERFORM wallet.assert_valid_idempotency_key(p_idempotency_key);
    fingerprint := wallet.request_fingerprint('deposit', NULL, p_user_id, p_amount);
    earlier := wallet.claim_idempotency_key(p_user_id, p_idempotency_key, fingerprint);
    IF earlier.id IS NOT NULL THEN
      RETURN QUERY SELECT earlier.id, earlier.receiver_balance_after, earlier.created_at, true;
      RETURN;
    END IF;
  END IF;

  UPDATE wallet.wallets w SET balance = w.balance + p_amount, updated_at = now()
   WHERE w.user_id = p_user_id AND w.balance <= wallet.max_balance() - p_amount
  RETURNING w.balance INTO new_balance;
  IF new_balance IS NULL THEN
    IF EXISTS (SELECT 1 FROM wallet.wallets w WHERE w.user_id = p_user_id) THEN
      RAISE EXCEPTION 'balance would exceed the maximum'
        USING ERRCODE = 'W1014', DETAIL = format('wallet %s cannot hold %s more; the maximum balance is %s',
                                                p_user_id, round(p_amount, 2), wallet.max_balance());
    END IF;
    RAISE EXCEPTION 'receiver wallet not found' USING ERRCODE = 'W1003', DETAIL = format('no wallet %s', p_user_id);
  END IF;

  INSERT INTO wallet.transactions AS t (kind, receiver_id, amount, receiver_balance_after, idempotency_key,
                                        request_fingerprint)
  VALUES ('deposit', p_user_id, p_amount, new_balance, p_idempotency_key, fingerprint)
  RETURNING t.* INTO made;
  INSERT INTO wallet.receipts (transaction_id) VALUES (made.id);
  PERFORM wallet.chain_transactions(ARRAY[made.id]);

  RETURN QUERY SELECT made.id, made.receiver_balance_after, made.created_at, false;
END
$$;
