-- Up Migration
-- Generated from db/procedures by scripts/procedures-migration.ts.

-- ==== db/procedures/validation.sql ====

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


-- ==== db/procedures/users.sql ====

-- Users and their credentials. Password hashes are made by the application (scrypt); SQL only stores them.

CREATE OR REPLACE FUNCTION wallet.create_user(p_username text, p_password_hash text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO wallet.users (username, password_hash) VALUES (p_username, p_password_hash)
  RETURNING id INTO new_id;
  INSERT INTO wallet.wallets (user_id) VALUES (new_id);
  RETURN new_id;
EXCEPTION
  WHEN unique_violation THEN
    RAISE EXCEPTION 'username is taken'
      USING ERRCODE = 'W1008', DETAIL = format('a user named %s already exists (names ignore case)', p_username);
  WHEN check_violation OR not_null_violation THEN
    RAISE EXCEPTION 'username is not valid'
      USING ERRCODE = 'W1009',
            DETAIL = 'a username has 1 to 150 characters, no control characters and no leading or trailing spaces';
END
$$;

CREATE OR REPLACE FUNCTION wallet.set_password(p_username text, p_password_hash text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  found_id bigint;
BEGIN
  UPDATE wallet.users SET password_hash = p_password_hash WHERE lower(username) = lower(p_username)
  RETURNING id INTO found_id;
  IF found_id IS NULL THEN
    RAISE EXCEPTION 'user not found' USING ERRCODE = 'W1012', DETAIL = format('no user named %s', p_username);
  END IF;
  RETURN found_id;
END
$$;

-- For login: the hash is readable only through this function, never through the table.
CREATE OR REPLACE FUNCTION wallet.user_credentials(p_username text)
RETURNS TABLE (user_id bigint, username text, password_hash text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT u.id, u.username, u.password_hash FROM wallet.users u WHERE lower(u.username) = lower(p_username)
$$;

CREATE OR REPLACE FUNCTION wallet.balance(p_user_id bigint)
RETURNS TABLE (user_id bigint, username text, balance numeric)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT u.id, u.username, w.balance FROM wallet.users u JOIN wallet.wallets w ON w.user_id = u.id
   WHERE u.id = p_user_id
$$;


-- ==== db/procedures/money.sql ====

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
         bool_or(l.user_id = p_sender_id), bool_or(l.user_id = p_receiver_id)
    INTO from_balance, to_balance, from_found, to_found
    FROM (SELECT w.user_id, w.balance FROM wallet.wallets w
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
  IF from_balance < p_amount THEN
    RAISE EXCEPTION 'insufficient funds'
      USING ERRCODE = 'W1001',
            DETAIL = format('wallet %s has %s, transfer needs %s', p_sender_id, from_balance, round(p_amount, 2));
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

  RETURN QUERY SELECT made.id, made.receiver_balance_after, made.created_at, false;
END
$$;


-- ==== db/procedures/batch.sql ====

-- Fan-out: one sender, many receivers, one commit, all or nothing. Each item is its own transaction row with
-- its own receipt, exactly as if wallet.transfer had been called for it in order.
--
-- The idempotency key goes on the batch's first row only (with the whole batch's fingerprint), so per-key
-- uniqueness is the same index as for single transfers. The batch holds the sender's row lock from its first
-- insert to its commit, so no other transfer from that sender can take an id in between: a replay finds the
-- batch as the sender's rows from the keyed one on, as many as the batch has items.
CREATE OR REPLACE FUNCTION wallet.transfer_batch(
  p_sender_id bigint, p_receiver_ids bigint[], p_amounts numeric[], p_idempotency_key text DEFAULT NULL)
RETURNS TABLE (item integer, transaction_id bigint, receiver_id bigint, amount numeric, sender_balance numeric,
               receiver_balance numeric, created_at timestamptz, replayed boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  items       integer := coalesce(cardinality(p_receiver_ids), 0);
  fingerprint bytea;
  earlier     wallet.transactions;
  from_balance numeric;
  available   numeric; -- what the batch may spend: the one place a future deduction (holds) belongs
  bad         record;
BEGIN
  IF items = 0 OR coalesce(cardinality(p_amounts), 0) = 0 THEN
    RAISE EXCEPTION 'batch is empty' USING ERRCODE = 'W1030', DETAIL = 'a batch has 1 to 10000 items';
  END IF;
  IF cardinality(p_amounts) <> items THEN
    RAISE EXCEPTION 'batch arrays differ in length' USING ERRCODE = 'W1031',
      DETAIL = format('%s receivers, %s amounts', items, cardinality(p_amounts));
  END IF;
  IF items > 10000 THEN
    RAISE EXCEPTION 'batch is too large' USING ERRCODE = 'W1032',
      DETAIL = format('%s items, at most 10000', items);
  END IF;

  -- Arguments first, as wallet.transfer checks them: the first item with a bad one fails the batch.
  SELECT x.i, x.r, x.a INTO bad
    FROM unnest(p_receiver_ids, p_amounts) WITH ORDINALITY AS x(r, a, i)
   WHERE x.r IS NOT DISTINCT FROM p_sender_id
      OR x.a IS NULL OR x.a <= 0 OR x.a > 1000000000000.00 OR x.a <> round(x.a, 2)
   ORDER BY x.i LIMIT 1;
  IF FOUND THEN
    IF bad.r = p_sender_id THEN
      RAISE EXCEPTION 'cannot transfer to the same wallet' USING ERRCODE = 'W1004',
        DETAIL = format('item %s: sender and receiver are both wallet %s', bad.i, p_sender_id);
    END IF;
    PERFORM wallet.assert_valid_amount(bad.a, format('item %s: transfer', bad.i));
  END IF;

  IF p_idempotency_key IS NOT NULL THEN
    PERFORM wallet.assert_valid_idempotency_key(p_idempotency_key);
    fingerprint := sha256(convert_to(
      concat_ws('|', 'batch', p_sender_id,
                (SELECT string_agg(coalesce(x.r::text, '-') || ':' || round(x.a, 2)::text, ',' ORDER BY x.i)
                   FROM unnest(p_receiver_ids, p_amounts) WITH ORDINALITY AS x(r, a, i))),
      'UTF8'));
    earlier := wallet.claim_idempotency_key(p_sender_id, p_idempotency_key, fingerprint);
    IF earlier.id IS NOT NULL THEN
      RETURN QUERY
        SELECT row_number() OVER (ORDER BY t.id)::integer, t.id, t.receiver_id, t.amount, t.sender_balance_after,
               t.receiver_balance_after, t.created_at, true
          FROM (SELECT * FROM wallet.transactions t
                 WHERE t.sender_id = p_sender_id AND t.id >= earlier.id ORDER BY t.id LIMIT items) t
         ORDER BY t.id;
      RETURN;
    END IF;
  END IF;

  -- Every distinct wallet once, in ascending id order, before anything moves: batches and single transfers
  -- all lock in one order, so none can deadlock another.
  PERFORM 1 FROM wallet.wallets w
    WHERE w.user_id = ANY (p_receiver_ids || p_sender_id)
    ORDER BY w.user_id
      FOR UPDATE;
  SELECT w.balance INTO from_balance FROM wallet.wallets w WHERE w.user_id = p_sender_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'sender wallet not found' USING ERRCODE = 'W1002', DETAIL = format('no wallet %s', p_sender_id);
  END IF;
  available := from_balance;

  -- The first item that cannot go through at its point of the batch: an unknown receiver, the sender short
  -- of this item after the ones before it, or a receiver pushed past the maximum balance.
  SELECT x.i, x.r, x.a, x.spent, w.user_id IS NULL AS unknown, w.balance + x.credited > wallet.max_balance() AS over
    INTO bad
    FROM (SELECT y.i, y.r, y.a, sum(y.a) OVER (ORDER BY y.i) AS spent,
                 sum(y.a) OVER (PARTITION BY y.r ORDER BY y.i) AS credited
            FROM unnest(p_receiver_ids, p_amounts) WITH ORDINALITY AS y(r, a, i)) x
    LEFT JOIN wallet.wallets w ON w.user_id = x.r
   WHERE w.user_id IS NULL OR x.spent > available OR w.balance + x.credited > wallet.max_balance()
   ORDER BY x.i LIMIT 1;
  IF FOUND THEN
    IF bad.unknown THEN
      RAISE EXCEPTION 'receiver wallet not found' USING ERRCODE = 'W1003',
        DETAIL = format('item %s: no wallet %s', bad.i, coalesce(bad.r::text, 'NULL'));
    ELSIF bad.spent > available THEN
      RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'W1001',
        DETAIL = format('item %s: wallet %s has %s left after the items before it, item needs %s', bad.i,
                        p_sender_id, available - (bad.spent - bad.a), round(bad.a, 2));
    END IF;
    RAISE EXCEPTION 'receiver balance would exceed the maximum' USING ERRCODE = 'W1014',
      DETAIL = format('item %s: wallet %s would pass the maximum balance %s with %s',
                      bad.i, bad.r, wallet.max_balance(), round(bad.a, 2));
  END IF;

  -- One statement moves everything: the balances before it, per item, come from the same snapshot.
  RETURN QUERY
  WITH planned AS (
    SELECT x.i, x.r, x.a, from_balance - sum(x.a) OVER (ORDER BY x.i) AS sender_after,
           w.balance + sum(x.a) OVER (PARTITION BY x.r ORDER BY x.i) AS receiver_after
      FROM unnest(p_receiver_ids, p_amounts) WITH ORDINALITY AS x(r, a, i)
      JOIN wallet.wallets w ON w.user_id = x.r
  ), debited AS (
    UPDATE wallet.wallets w SET balance = w.balance - (SELECT sum(p.a) FROM planned p), updated_at = now()
     WHERE w.user_id = p_sender_id
  ), credited AS (
    UPDATE wallet.wallets w SET balance = w.balance + c.total, updated_at = now()
      FROM (SELECT p.r, sum(p.a) AS total FROM planned p GROUP BY p.r) c
     WHERE w.user_id = c.r
  ), made AS (
    INSERT INTO wallet.transactions AS t (kind, sender_id, receiver_id, amount, sender_balance_after,
                                          receiver_balance_after, idempotency_key, request_fingerprint)
    SELECT 'transfer', p_sender_id, p.r, p.a, p.sender_after, p.receiver_after,
           CASE WHEN p.i = 1 THEN p_idempotency_key END, CASE WHEN p.i = 1 THEN fingerprint END
      FROM planned p ORDER BY p.i
    RETURNING t.*
  ), receipts AS (
    INSERT INTO wallet.receipts (transaction_id) SELECT m.id FROM made m
  )
  SELECT row_number() OVER (ORDER BY m.id)::integer, m.id, m.receiver_id, m.amount, m.sender_balance_after,
         m.receiver_balance_after, m.created_at, false
    FROM made m ORDER BY m.id;
END
$$;


-- ==== db/procedures/history.sql ====

-- What a user may see of the ledger: only transactions they are party to.

-- One shape for a transaction as seen by one of its parties.
CREATE OR REPLACE FUNCTION wallet.history(p_user_id bigint, p_limit integer DEFAULT 50, p_before bigint DEFAULT NULL)
RETURNS TABLE (id bigint, kind text, direction text, counterparty_id bigint, amount numeric,
               created_at timestamptz, receipt_status text)
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
         m.amount, m.created_at, r.status
    FROM mine m JOIN wallet.receipts r ON r.transaction_id = m.id
   ORDER BY m.id DESC
   LIMIT p_limit
$$;

CREATE OR REPLACE FUNCTION wallet.transaction_for(p_user_id bigint, p_transaction_id bigint)
RETURNS TABLE (id bigint, kind text, direction text, counterparty_id bigint, amount numeric,
               created_at timestamptz, receipt_status text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT t.id, t.kind,
         CASE WHEN t.receiver_id = p_user_id THEN 'received' ELSE 'sent' END,
         CASE WHEN t.receiver_id = p_user_id THEN t.sender_id ELSE t.receiver_id END,
         t.amount, t.created_at, r.status
    FROM wallet.transactions t JOIN wallet.receipts r ON r.transaction_id = t.id
   WHERE t.id = p_transaction_id AND (t.sender_id = p_user_id OR t.receiver_id = p_user_id)
$$;


-- ==== db/procedures/receipts.sql ====

-- The receipt outbox: what the dispatcher starts, what the workflow renders, what a party downloads.

-- Pending receipts whose workflow has not been started (or was started long ago and never finished, in case
-- the Temporal server lost it). Call inside a transaction: the rows stay locked, so concurrent dispatchers
-- skip them, until mark_receipts_started and COMMIT.
CREATE OR REPLACE FUNCTION wallet.claim_unstarted_receipts(p_limit integer, p_restart_after interval DEFAULT '10 minutes')
RETURNS TABLE (transaction_id bigint, sender_id bigint, receiver_id bigint, amount numeric)
LANGUAGE sql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  WITH claimed AS (
    SELECT r.transaction_id FROM wallet.receipts r
     WHERE r.status = 'pending'
       AND (r.workflow_started_at IS NULL OR r.workflow_started_at < now() - p_restart_after)
     ORDER BY r.transaction_id
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED
  )
  SELECT t.id, t.sender_id, t.receiver_id, t.amount
    FROM claimed c JOIN wallet.transactions t ON t.id = c.transaction_id
   ORDER BY t.id
$$;

CREATE OR REPLACE FUNCTION wallet.mark_receipts_started(p_transaction_ids bigint[])
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  WITH marked AS (
    UPDATE wallet.receipts r SET workflow_started_at = now()
     WHERE r.transaction_id = ANY (p_transaction_ids) AND r.status = 'pending'
    RETURNING 1
  )
  SELECT count(*)::integer FROM marked
$$;

-- Everything a receipt shows, and the SHA-256 of the transaction record it certifies.
CREATE OR REPLACE FUNCTION wallet.receipt_document(p_transaction_id bigint)
RETURNS TABLE (transaction_id bigint, kind text, created_at timestamptz, sender_id bigint, sender_username text,
               receiver_id bigint, receiver_username text, amount numeric, record_sha256 text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
BEGIN
  RETURN QUERY
  SELECT t.id, t.kind, t.created_at, t.sender_id, s.username, t.receiver_id, r.username, t.amount,
         encode(sha256(convert_to(concat_ws('|', t.id, t.kind, coalesce(t.sender_id::text, '-'), t.receiver_id,
                                            t.amount, to_char(t.created_at AT TIME ZONE 'UTC',
                                                              'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')), 'UTF8')), 'hex')
    FROM wallet.transactions t
    LEFT JOIN wallet.users s ON s.id = t.sender_id
    JOIN wallet.users r ON r.id = t.receiver_id
   WHERE t.id = p_transaction_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'transaction not found' USING ERRCODE = 'W1013',
      DETAIL = format('no transaction %s', p_transaction_id);
  END IF;
END
$$;

-- Idempotent: the first stored PDF wins, so a retried or doubled activity never replaces a receipt.
CREATE OR REPLACE FUNCTION wallet.store_receipt_pdf(p_transaction_id bigint, p_pdf bytea)
RETURNS TABLE (status text, pdf_size integer, pdf_sha256 text, rendered_at timestamptz, stored_now boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  changed boolean;
BEGIN
  IF p_pdf IS NULL OR length(p_pdf) = 0 THEN
    RAISE EXCEPTION 'receipt PDF is empty' USING ERRCODE = 'W1015',
      DETAIL = format('transaction %s', p_transaction_id);
  END IF;
  UPDATE wallet.receipts r
     SET status = 'rendered', pdf = p_pdf, pdf_size = length(p_pdf), pdf_sha256 = encode(sha256(p_pdf), 'hex'),
         rendered_at = now()
   WHERE r.transaction_id = p_transaction_id AND r.status = 'pending';
  changed := FOUND;
  RETURN QUERY SELECT r.status, r.pdf_size, r.pdf_sha256, r.rendered_at, changed
                 FROM wallet.receipts r WHERE r.transaction_id = p_transaction_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'transaction not found' USING ERRCODE = 'W1013',
      DETAIL = format('no receipt row for transaction %s', p_transaction_id);
  END IF;
END
$$;

-- For a download: nothing at all unless the caller is a party, so existence does not leak.
CREATE OR REPLACE FUNCTION wallet.receipt_for(p_user_id bigint, p_transaction_id bigint)
RETURNS TABLE (status text, pdf bytea, pdf_sha256 text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT r.status, r.pdf, r.pdf_sha256
    FROM wallet.receipts r JOIN wallet.transactions t ON t.id = r.transaction_id
   WHERE r.transaction_id = p_transaction_id AND (t.sender_id = p_user_id OR t.receiver_id = p_user_id)
$$;

CREATE OR REPLACE FUNCTION wallet.receipt_backlog()
RETURNS TABLE (pending bigint, unstarted bigint, oldest_pending_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT count(*), count(*) FILTER (WHERE r.workflow_started_at IS NULL), min(t.created_at)
    FROM wallet.receipts r JOIN wallet.transactions t ON t.id = r.transaction_id
   WHERE r.status = 'pending'
$$;


-- ==== db/procedures/audit.sql ====

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
$$;


GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA wallet TO wallet_app;
REVOKE EXECUTE ON FUNCTION wallet.reject_transaction_change() FROM wallet_app;
