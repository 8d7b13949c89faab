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

-- available = balance - open, unexpired holds. The wallet's cached total is exact until its earliest hold
-- expires; past that, the unexpired ones are summed here (reads never write: expiry is written lazily).
CREATE OR REPLACE FUNCTION wallet.balance(p_user_id bigint)
RETURNS TABLE (user_id bigint, username text, balance numeric, available numeric)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT u.id, u.username, w.balance,
         w.balance - CASE WHEN w.holds_expire_at IS NULL OR w.holds_expire_at > clock_timestamp() THEN w.held
                          ELSE (SELECT coalesce(sum(h.amount), 0) FROM wallet.holds h
                                 WHERE h.sender_id = w.user_id AND h.status = 'open'
                                   AND h.expires_at > clock_timestamp()) END
    FROM wallet.users u JOIN wallet.wallets w ON w.user_id = u.id
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
  from_held   numeric;
  holds_due   timestamptz;
  available   numeric; -- what the batch may spend: the balance less the sender's open, unexpired holds
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
  SELECT w.balance, w.held, w.holds_expire_at INTO from_balance, from_held, holds_due
    FROM wallet.wallets w WHERE w.user_id = p_sender_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'sender wallet not found' USING ERRCODE = 'W1002', DETAIL = format('no wallet %s', p_sender_id);
  END IF;
  -- Money held for others is not the batch's to spend; a hold past its expiry is, at once (no sweep needed):
  -- expire the sender's due holds under the lock just taken, as wallet.check_available does for a transfer.
  IF holds_due <= clock_timestamp() THEN
    from_held := wallet.expire_due_holds(p_sender_id);
  END IF;
  available := from_balance - from_held;

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
        DETAIL = format('item %s: wallet %s has %s available (%s held) after the items before it, item needs %s',
                        bad.i, p_sender_id, available - (bad.spent - bad.a), from_held, round(bad.a, 2));
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


-- ==== db/procedures/holds.sql ====

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


-- ==== db/procedures/holds_settle.sql ====

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


-- ==== db/procedures/holds_views.sql ====

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
--
-- Every statement that updates several receipt rows locks them first in ascending transaction id
-- (ORDER BY ... FOR UPDATE): the dispatcher's marks and releases and the workers' batched stores overlap
-- while a backlog drains, and two of them taking the same rows in different orders deadlocked (40P01).

-- The dispatcher's lease: one statement picks pending receipts with no workflow (or one started long ago that
-- never finished, in case the Temporal server lost it) and no live lease, marks them claimed by p_claimer,
-- and commits with the caller's autocommit. The starts happen afterwards, outside any transaction; a lease
-- older than p_lease (its claimer died) is taken over by the next claim.
CREATE OR REPLACE FUNCTION wallet.claim_receipts(p_claimer text, p_limit integer, p_lease interval,
                                                 p_restart_after interval DEFAULT '10 minutes')
RETURNS TABLE (transaction_id bigint, sender_id bigint, receiver_id bigint, amount numeric)
LANGUAGE sql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  WITH free AS (
    SELECT r.transaction_id FROM wallet.receipts r
     WHERE r.status = 'pending'
       AND (r.workflow_started_at IS NULL OR r.workflow_started_at < now() - p_restart_after)
       AND (r.claimed_at IS NULL OR r.claimed_at < now() - p_lease)
     ORDER BY r.transaction_id
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED
  ), claimed AS (
    UPDATE wallet.receipts r SET claimed_at = now(), claimed_by = p_claimer
      FROM free f WHERE r.transaction_id = f.transaction_id
    RETURNING r.transaction_id
  )
  SELECT t.id, t.sender_id, t.receiver_id, t.amount
    FROM claimed c JOIN wallet.transactions t ON t.id = c.transaction_id
   ORDER BY t.id
$$;

-- The dispatcher's window: receipts whose workflow is running or being started, by every API and dispatcher,
-- counted here rather than in Temporal's visibility store (which lags, and where each count cost the dev
-- server 5.4 ms of CPU with 1,000 workflows running). A receipt leaves the count when its PDF is stored, a
-- few milliseconds before its workflow closes; one started longer ago than p_restart_after (Temporal lost
-- it; claim_receipts starts it again) no longer counts.
CREATE OR REPLACE FUNCTION wallet.receipts_in_flight(p_lease interval, p_restart_after interval DEFAULT '10 minutes')
RETURNS integer
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT count(*)::integer FROM wallet.receipts r
   WHERE r.status = 'pending'
     AND (r.workflow_started_at >= now() - p_restart_after OR r.claimed_at >= now() - p_lease)
$$;

-- The workflow exists: the receipt is started and its lease (the API's or a dispatcher's) is done.
CREATE OR REPLACE FUNCTION wallet.mark_receipts_started(p_transaction_ids bigint[])
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  WITH locked AS (
    SELECT r.transaction_id FROM wallet.receipts r
     WHERE r.transaction_id = ANY (p_transaction_ids) AND r.status = 'pending'
     ORDER BY r.transaction_id
       FOR UPDATE
  ), marked AS (
    UPDATE wallet.receipts r SET workflow_started_at = now(), claimed_at = NULL
      FROM locked l WHERE r.transaction_id = l.transaction_id
    RETURNING 1
  )
  SELECT count(*)::integer FROM marked
$$;

-- A start failed: give the lease back at once (only one's own), so the receipt need not wait out the lease.
CREATE OR REPLACE FUNCTION wallet.release_receipts(p_claimer text, p_transaction_ids bigint[])
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  WITH locked AS (
    SELECT r.transaction_id FROM wallet.receipts r
     WHERE r.transaction_id = ANY (p_transaction_ids) AND r.claimed_by = p_claimer
     ORDER BY r.transaction_id
       FOR UPDATE
  ), released AS (
    UPDATE wallet.receipts r SET claimed_at = NULL, claimed_by = NULL
      FROM locked l WHERE r.transaction_id = l.transaction_id
    RETURNING 1
  )
  SELECT count(*)::integer FROM released
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

-- Everything a receipt shows, and the SHA-256 of the transaction record it certifies, for many receipts at
-- once: one statement per coalesced print instead of one per receipt. A missing id has no row (the caller
-- reports it).
CREATE OR REPLACE FUNCTION wallet.receipt_documents(p_transaction_ids bigint[])
RETURNS TABLE (transaction_id bigint, kind text, created_at timestamptz, sender_id bigint, sender_username text,
               receiver_id bigint, receiver_username text, amount numeric, record_sha256 text,
               hold_id bigint)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT t.id, t.kind, t.created_at, t.sender_id, s.username, t.receiver_id, r.username, t.amount,
         encode(sha256(convert_to(concat_ws('|', t.id, t.kind, coalesce(t.sender_id::text, '-'), t.receiver_id,
                                            t.amount, to_char(t.created_at AT TIME ZONE 'UTC',
                                                              'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')), 'UTF8')), 'hex'),
         (SELECT h.id FROM wallet.holds h WHERE h.capture_transaction_id = t.id)  -- a capture settles a hold
    FROM wallet.transactions t
    LEFT JOIN wallet.users s ON s.id = t.sender_id
    JOIN wallet.users r ON r.id = t.receiver_id
   WHERE t.id = ANY (p_transaction_ids)
$$;


-- One receipt's document: what the first workflow version loads, and psql's way to see a receipt's content.
CREATE OR REPLACE FUNCTION wallet.receipt_document(p_transaction_id bigint)
RETURNS TABLE (transaction_id bigint, kind text, created_at timestamptz, sender_id bigint, sender_username text,
               receiver_id bigint, receiver_username text, amount numeric, record_sha256 text,
               hold_id bigint)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
BEGIN
  RETURN QUERY SELECT * FROM wallet.receipt_documents(ARRAY[p_transaction_id]);
  IF NOT FOUND THEN
    RAISE EXCEPTION 'transaction not found' USING ERRCODE = 'W1013',
      DETAIL = format('no transaction %s', p_transaction_id);
  END IF;
END
$$;

-- Stores many PDFs in one call, idempotently: a receipt already rendered keeps its PDF. One row per input
-- position, in order; stored_now is true where this call stored the PDF or an earlier call of the same renderer
-- (workflow run, p_rendered_by) did, at an id's first position; an id without a receipt row comes back with
-- status NULL (the caller reports it).
CREATE OR REPLACE FUNCTION wallet.store_receipt_pdfs(p_transaction_ids bigint[], p_pdfs bytea[],
                                                     p_rendered_by text[] DEFAULT NULL)
RETURNS TABLE (transaction_id bigint, status text, pdf_size integer, pdf_sha256 text, rendered_at timestamptz,
               stored_now boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  stored_ids bigint[];
BEGIN
  IF cardinality(p_transaction_ids) IS DISTINCT FROM cardinality(p_pdfs)
     OR (p_rendered_by IS NOT NULL AND cardinality(p_rendered_by) IS DISTINCT FROM cardinality(p_pdfs)) THEN
    RAISE EXCEPTION 'receipt ids, PDFs and renderers differ in number' USING ERRCODE = '22023',
      DETAIL = format('%s ids, %s PDFs, %s renderers', cardinality(p_transaction_ids), cardinality(p_pdfs),
                      coalesce(cardinality(p_rendered_by)::text, 'no'));
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(p_pdfs) AS p(pdf) WHERE p.pdf IS NULL OR length(p.pdf) = 0) THEN
    RAISE EXCEPTION 'receipt PDF is empty' USING ERRCODE = 'W1015';
  END IF;
  WITH first AS (
    SELECT DISTINCT ON (i.id) i.id, i.pdf, i.by
      FROM unnest(p_transaction_ids, p_pdfs, p_rendered_by) WITH ORDINALITY AS i(id, pdf, by, n)
     ORDER BY i.id, i.n
  ), locked AS (
    SELECT r.transaction_id FROM wallet.receipts r
     WHERE r.transaction_id = ANY (p_transaction_ids) AND r.status = 'pending'
     ORDER BY r.transaction_id
       FOR UPDATE
  ), stored AS (
    UPDATE wallet.receipts r
       SET status = 'rendered', pdf = f.pdf, pdf_size = length(f.pdf), pdf_sha256 = encode(sha256(f.pdf), 'hex'),
           rendered_at = now(), rendered_by = f.by
      FROM first f JOIN locked l ON l.transaction_id = f.id
     WHERE r.transaction_id = f.id AND r.status = 'pending'
    RETURNING r.transaction_id
  )
  SELECT array_agg(stored.transaction_id) INTO stored_ids FROM stored;
  -- A new statement, so a new snapshot: it sees our update and one another worker committed meanwhile.
  -- stored_now: this call stored it, or an earlier attempt of the same renderer (workflow run) did.
  RETURN QUERY
  SELECT i.id, r.status, r.pdf_size, r.pdf_sha256, r.rendered_at,
         (coalesce(i.id = ANY (stored_ids), false) OR coalesce(r.rendered_by = i.by, false))
           AND i.n = min(i.n) OVER (PARTITION BY i.id)
    FROM unnest(p_transaction_ids, p_rendered_by) WITH ORDINALITY AS i(id, by, n)
    LEFT JOIN wallet.receipts r ON r.transaction_id = i.id
   ORDER BY i.n;
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
$$;


-- ==== db/grants.sql ====

-- Who may call what in schema wallet: the whole policy, re-applied from scratch by migration 0007 and by every
-- generated procedures migration (scripts/procedures-migration.ts). Each process's role may call exactly
-- what that process calls; the functions run as their owner (SECURITY DEFINER), so nothing else is needed.
-- Every function in schema wallet must appear below, granted to a role or listed as owner only:
-- tests/db/grants.test.ts fails for a function without a decision and says which line to add.

-- Start from nothing: no function callable by PUBLIC or either role until granted below.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA wallet FROM PUBLIC, wallet_app, wallet_worker;
-- Functions made later get no rights by themselves either (PostgreSQL's default is EXECUTE for PUBLIC).
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA wallet REVOKE EXECUTE ON FUNCTIONS FROM wallet_app;
GRANT USAGE ON SCHEMA wallet TO wallet_app, wallet_worker;

-- wallet_app: the API (and `npm run cli`, which acts as the API's role).
GRANT EXECUTE ON FUNCTION wallet.transfer TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.transfer_batch TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.deposit TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.balance TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.history TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.transaction_for TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.receipt_for TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.receipt_backlog TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.user_credentials TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.create_user TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.set_password TO wallet_app;
-- The API marks the receipts whose workflow it started right after the commit.
GRANT EXECUTE ON FUNCTION wallet.mark_receipts_started TO wallet_app;
-- Holds: the sender places one, the receiver captures or releases it, both read them.
GRANT EXECUTE ON FUNCTION wallet.hold TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.capture TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.release TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.holds_for TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.hold_for TO wallet_app;

-- wallet_worker: the receipt worker and its dispatcher.
GRANT EXECUTE ON FUNCTION wallet.claim_receipts TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.release_receipts TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.receipts_in_flight TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.mark_receipts_started TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.receipt_document TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.store_receipt_pdf TO wallet_worker;
-- A coalesced print loads and stores its receipts in one statement each.
GRANT EXECUTE ON FUNCTION wallet.receipt_documents TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.store_receipt_pdfs TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.receipt_backlog TO wallet_worker;

-- Owner only: internal helpers (called inside the functions above) and DBA tools. Granted to nobody.
REVOKE ALL ON FUNCTION wallet.assert_valid_amount FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.assert_valid_idempotency_key FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.request_fingerprint FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.claim_idempotency_key FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.max_balance FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.reject_transaction_change FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.refuse_deleting_history FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.audit FROM PUBLIC;
-- Holds' internals (called inside hold, capture, release and transfer), its trigger and the DBA's sweep.
REVOKE ALL ON FUNCTION wallet.check_available FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.claim_hold_key FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.effective_hold_status FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.expire_due_holds FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.guard_hold_change FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.hold_to_settle FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.open_hold FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.unhold FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.sweep_expired_holds FROM PUBLIC;
