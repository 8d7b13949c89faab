-- Up Migration
-- Generated from db/procedures by scripts/procedures-migration.ts.

-- ==== db/procedures/books.sql ====

-- The books: every wallet's entries form a hash chain (docs/books.md specifies it so that anyone can recompute
-- it), and the chain's stored balances answer "what was the balance then" and "my statement for November".
--
-- entry n of wallet u: hash(n) = sha256(hash(n-1) || canonical bytes of entry n), hash(0) = genesis(u).
-- The two primitives are SQL functions without SET clauses so that they inline into the callers' statements
-- (the transfer hashes inside its one UPDATE); everything in them is schema-qualified for that reason.

CREATE OR REPLACE FUNCTION wallet.genesis(p_user_id bigint)
RETURNS bytea
LANGUAGE sql STABLE
AS $$
  SELECT pg_catalog.sha256(pg_catalog.convert_to('genesis|' OPERATOR(pg_catalog.||) p_user_id::pg_catalog.text,
                                                 'UTF8'))
$$;

-- Canonical bytes: the UTF-8 of user_id|entry|transaction_id|kind|counterparty_id or -|signed amount|
-- balance_after|time, money with exactly two decimals, the time in UTC as YYYY-MM-DDTHH:MM:SS.ffffffZ.
CREATE OR REPLACE FUNCTION wallet.entry_hash(
  p_previous bytea, p_user_id bigint, p_entry bigint, p_transaction_id bigint, p_kind text,
  p_counterparty_id bigint, p_amount numeric, p_balance_after numeric, p_at timestamptz)
RETURNS bytea
LANGUAGE sql STABLE
AS $$
  SELECT pg_catalog.sha256(p_previous OPERATOR(pg_catalog.||) pg_catalog.convert_to(pg_catalog.concat_ws('|',
           p_user_id, p_entry, p_transaction_id, p_kind, coalesce(p_counterparty_id::pg_catalog.text, '-'),
           p_amount::pg_catalog.numeric(20, 2), p_balance_after::pg_catalog.numeric(20, 2),
           pg_catalog.to_char(pg_catalog.timezone('UTC', p_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')), 'UTF8'))
$$;

-- Appends the entries of transactions just written (deposit, batch items, capture, refund; the transfer does
-- it inline): one per wallet each touches, in transaction id order per wallet, with the balances the rows
-- recorded. The caller holds every touched wallet's row lock, so the heads read here are the latest.
-- A wallet's entries of one call share one time: the clock after the locks, or its head's time if later.
CREATE OR REPLACE FUNCTION wallet.chain_transactions(p_transaction_ids bigint[])
RETURNS void
LANGUAGE plpgsql
SET search_path = wallet, pg_temp
AS $$
DECLARE
  stamp    timestamptz := clock_timestamp();
  r        record;
  cur      bigint;
  n        bigint;
  prev     bytea;
  at_time  timestamptz;
  users    bigint[] := '{}';
  numbers  bigint[] := '{}';
  txids    bigint[] := '{}';
  kinds    text[] := '{}';
  parties  bigint[] := '{}';
  amounts  numeric[] := '{}';
  balances numeric[] := '{}';
  times    timestamptz[] := '{}';
  hashes   bytea[] := '{}';
BEGIN
  FOR r IN
    SELECT s.*, w.entries, w.head_hash, w.head_at FROM (
      SELECT t.sender_id AS user_id, t.id, t.kind, t.receiver_id AS counterparty_id, -t.amount AS amount,
             t.sender_balance_after AS balance_after
        FROM wallet.transactions t WHERE t.id = ANY (p_transaction_ids) AND t.sender_id IS NOT NULL
      UNION ALL
      SELECT t.receiver_id, t.id, t.kind, t.sender_id, t.amount, t.receiver_balance_after
        FROM wallet.transactions t WHERE t.id = ANY (p_transaction_ids)) s
    JOIN wallet.wallets w ON w.user_id = s.user_id
    ORDER BY s.user_id, s.id
  LOOP
    IF r.user_id IS DISTINCT FROM cur THEN
      cur := r.user_id;
      n := r.entries;
      prev := coalesce(r.head_hash, wallet.genesis(cur));
      at_time := greatest(stamp, r.head_at);
    END IF;
    n := n + 1;
    prev := wallet.entry_hash(prev, cur, n, r.id, r.kind, r.counterparty_id, r.amount, r.balance_after, at_time);
    users := users || cur;
    numbers := numbers || n;
    txids := txids || r.id;
    kinds := kinds || r.kind;
    parties := parties || r.counterparty_id;
    amounts := amounts || r.amount;
    balances := balances || r.balance_after;
    times := times || at_time;
    hashes := hashes || prev;
  END LOOP;
  INSERT INTO wallet.entries (user_id, entry, transaction_id, kind, counterparty_id, amount, balance_after,
                              created_at, hash)
  SELECT * FROM unnest(users, numbers, txids, kinds, parties, amounts, balances, times, hashes);
  UPDATE wallet.wallets w SET entries = h.n, head_hash = h.hash, head_at = h.at
    FROM (SELECT DISTINCT ON (x.u) x.u, x.n, x.hash, x.at
            FROM unnest(users, numbers, hashes, times) AS x(u, n, hash, at)
           ORDER BY x.u, x.n DESC) h
   WHERE w.user_id = h.u;
END
$$;

-- The balance right after the last entry at or before p_at (0.00 before the first); NULL for no such wallet.
-- Holds never change a balance, only what is available, so they play no part here.
CREATE OR REPLACE FUNCTION wallet.balance_at(p_user_id bigint, p_at timestamptz)
RETURNS numeric
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT coalesce((SELECT e.balance_after FROM wallet.entries e
                    WHERE e.user_id = w.user_id AND e.created_at <= p_at
                    ORDER BY e.created_at DESC, e.entry DESC LIMIT 1), 0.00::numeric(20, 2))
    FROM wallet.wallets w WHERE w.user_id = p_user_id
$$;

-- What a user can keep to prove later that their history was not rewritten (see wallet.verify_head).
CREATE OR REPLACE FUNCTION wallet.chain_head(p_user_id bigint)
RETURNS TABLE (entry bigint, hash text, balance numeric)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT w.entries, encode(coalesce(w.head_hash, wallet.genesis(w.user_id)), 'hex'), w.balance
    FROM wallet.wallets w WHERE w.user_id = p_user_id
$$;

-- The entries with times in [p_from, p_to), oldest first. Pages: p_limit rows after entry p_after_entry
-- (the last entry of the previous page), by the (user_id, created_at, entry) index: entry order is time order.
CREATE OR REPLACE FUNCTION wallet.statement(
  p_user_id bigint, p_from timestamptz, p_to timestamptz, p_after_entry bigint DEFAULT NULL,
  p_limit integer DEFAULT NULL)
RETURNS TABLE (entry bigint, transaction_id bigint, kind text, direction text, counterparty_id bigint,
               amount numeric, balance_after numeric, created_at timestamptz, hash text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT e.entry, e.transaction_id, e.kind, CASE WHEN e.amount < 0 THEN 'sent' ELSE 'received' END,
         e.counterparty_id, abs(e.amount), e.balance_after, e.created_at, encode(e.hash, 'hex')
    FROM wallet.entries e
    LEFT JOIN wallet.entries a ON a.user_id = p_user_id AND a.entry = p_after_entry
   WHERE e.user_id = p_user_id AND e.created_at >= p_from AND e.created_at < p_to
     AND (e.created_at, e.entry) > (coalesce(a.created_at, p_from), coalesce(p_after_entry, -1))
   ORDER BY e.created_at, e.entry
   LIMIT p_limit
$$;

-- opening + total_in - total_out = closing, always: each entry's balance_after is the one before it plus its
-- amount. The closing entry and hash are the chain's head as of p_to (as wallet.chain_head gives it then).
CREATE OR REPLACE FUNCTION wallet.statement_summary(p_user_id bigint, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (opening_balance numeric, closing_balance numeric, total_in numeric, total_out numeric,
               entries bigint, closing_entry bigint, closing_hash text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT coalesce(o.balance_after, 0.00::numeric(20, 2)), coalesce(c.balance_after, 0.00::numeric(20, 2)),
         coalesce(p.total_in, 0.00::numeric(20, 2)), coalesce(p.total_out, 0.00::numeric(20, 2)), p.n,
         coalesce(c.entry, 0), encode(coalesce(c.hash, wallet.genesis(w.user_id)), 'hex')
    FROM wallet.wallets w
    LEFT JOIN LATERAL (SELECT e.balance_after FROM wallet.entries e
                        WHERE e.user_id = w.user_id AND e.created_at < p_from
                        ORDER BY e.created_at DESC, e.entry DESC LIMIT 1) o ON true
    LEFT JOIN LATERAL (SELECT e.balance_after, e.entry, e.hash FROM wallet.entries e
                        WHERE e.user_id = w.user_id AND e.created_at < p_to
                        ORDER BY e.created_at DESC, e.entry DESC LIMIT 1) c ON true
    CROSS JOIN LATERAL (SELECT sum(e.amount) FILTER (WHERE e.amount > 0) AS total_in,
                               -sum(e.amount) FILTER (WHERE e.amount < 0) AS total_out, count(*) AS n
                          FROM wallet.entries e
                         WHERE e.user_id = w.user_id AND e.created_at >= p_from AND e.created_at < p_to) p
   WHERE w.user_id = p_user_id
$$;

-- One row per problem, none when the chains are whole. Each entry is checked against the one before it
-- (its hash recomputed from the previous stored hash), which is what recomputing the chain from its genesis
-- checks, link by link; a gap or a duplicate number is named as such instead.
CREATE OR REPLACE FUNCTION wallet.verify(p_user_id bigint DEFAULT NULL)
RETURNS TABLE (user_id bigint, entry bigint, transaction_id bigint, problem text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  WITH links AS (
    SELECT e.*, lag(e.entry) OVER w AS prev_entry, lag(e.hash) OVER w AS prev_hash
      FROM wallet.entries e
     WHERE p_user_id IS NULL OR e.user_id = p_user_id
    WINDOW w AS (PARTITION BY e.user_id ORDER BY e.entry)
  ), heads AS (
    SELECT w.user_id, w.entries, w.head_hash, w.balance, l.entry, l.transaction_id, l.hash, l.balance_after
      FROM wallet.wallets w
      LEFT JOIN LATERAL (SELECT e.entry, e.transaction_id, e.hash, e.balance_after FROM wallet.entries e
                          WHERE e.user_id = w.user_id ORDER BY e.entry DESC LIMIT 1) l ON true
     WHERE p_user_id IS NULL OR w.user_id = p_user_id
  )
  SELECT x.user_id, x.entry, x.transaction_id, x.problem FROM (
    SELECT l.user_id, l.entry, l.transaction_id,
           CASE WHEN l.entry = l.prev_entry THEN 'duplicate_entry'
                WHEN l.entry <> coalesce(l.prev_entry, 0) + 1 THEN 'missing_entry'
                ELSE 'altered_entry' END AS problem
      FROM links l
     WHERE l.entry <> coalesce(l.prev_entry, 0) + 1
        OR l.hash IS DISTINCT FROM wallet.entry_hash(coalesce(l.prev_hash, wallet.genesis(l.user_id)), l.user_id,
                                                     l.entry, l.transaction_id, l.kind, l.counterparty_id,
                                                     l.amount, l.balance_after, l.created_at)
    UNION ALL
    SELECT h.user_id, h.entries, h.transaction_id, 'head_mismatch' FROM heads h
     WHERE h.entries <> coalesce(h.entry, 0) OR h.head_hash IS DISTINCT FROM h.hash
    UNION ALL
    SELECT h.user_id, h.entry, h.transaction_id, 'balance_mismatch' FROM heads h
     WHERE h.balance <> coalesce(h.balance_after, 0)) x
   ORDER BY x.user_id, x.entry, x.problem
$$;

-- True only if the wallet's chain, recomputed from its genesis, reaches p_hash at entry p_entry: a head kept
-- by its owner (wallet.chain_head) catches even a chain that a superuser rewrote consistently. Every link up
-- to p_entry is recomputed from the hash before it, starting at the genesis, so the stored hash at p_entry is
-- the recomputed chain's value exactly when all of them hold.
CREATE OR REPLACE FUNCTION wallet.verify_head(p_user_id bigint, p_entry bigint, p_hash text)
RETURNS boolean
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  kept   bytea;
  stored bytea;
  links  bigint;
  whole  boolean;
BEGIN
  IF p_user_id IS NULL OR p_entry IS NULL OR p_entry < 0 OR p_hash IS NULL OR p_hash !~ '^[0-9a-fA-F]{64}$' THEN
    RETURN false;
  END IF;
  kept := decode(p_hash, 'hex');
  IF p_entry = 0 THEN
    RETURN kept = wallet.genesis(p_user_id);
  END IF;
  SELECT count(*), coalesce(bool_and(c.ok), false) INTO links, whole
    FROM (SELECT e.entry = coalesce(lag(e.entry) OVER w, 0) + 1
                 AND e.hash = wallet.entry_hash(coalesce(lag(e.hash) OVER w, wallet.genesis(p_user_id)), e.user_id,
                                                e.entry, e.transaction_id, e.kind, e.counterparty_id, e.amount,
                                                e.balance_after, e.created_at) AS ok
            FROM wallet.entries e
           WHERE e.user_id = p_user_id AND e.entry <= p_entry
          WINDOW w AS (ORDER BY e.entry)) c;
  SELECT e.hash INTO stored FROM wallet.entries e WHERE e.user_id = p_user_id AND e.entry = p_entry;
  RETURN links = p_entry AND whole AND stored = kept;
END
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
  made_ids    bigint[];
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
    RETURNING t.id
  ), receipts AS (
    INSERT INTO wallet.receipts (transaction_id) SELECT m.id FROM made m
  )
  SELECT array_agg(m.id ORDER BY m.id) INTO made_ids FROM made m;
  -- Each item's entries on the sender's chain and its receiver's, in item order (the ids' order).
  PERFORM wallet.chain_transactions(made_ids);

  RETURN QUERY
  SELECT row_number() OVER (ORDER BY t.id)::integer, t.id, t.receiver_id, t.amount, t.sender_balance_after,
         t.receiver_balance_after, t.created_at, false
    FROM wallet.transactions t WHERE t.id = ANY (made_ids) ORDER BY t.id;
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


-- ==== db/procedures/refund.sql ====

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
      RETURN QUERY
        SELECT earlier.id, earlier.refund_of, earlier.amount, s.total, original.amount - s.total,
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

  RETURN QUERY SELECT made.id, original.id, made.amount, refunded + made.amount,
                      original.amount - refunded - made.amount,
                      made.sender_balance_after, made.receiver_balance_after, false;
END
$$;


-- ==== db/procedures/history.sql ====

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
               hold_id bigint, refund_of bigint)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT t.id, t.kind, t.created_at, t.sender_id, s.username, t.receiver_id, r.username, t.amount,
         encode(sha256(convert_to(concat_ws('|', t.id, t.kind, coalesce(t.sender_id::text, '-'), t.receiver_id,
                                            t.amount, to_char(t.created_at AT TIME ZONE 'UTC',
                                                              'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')), 'UTF8')), 'hex'),
         (SELECT h.id FROM wallet.holds h WHERE h.capture_transaction_id = t.id),  -- a capture settles a hold
         t.refund_of  -- "Refund of transaction N"; what was refunded later is not the receipt's (it never changes)
    FROM wallet.transactions t
    LEFT JOIN wallet.users s ON s.id = t.sender_id
    JOIN wallet.users r ON r.id = t.receiver_id
   WHERE t.id = ANY (p_transaction_ids)
$$;


-- One receipt's document: what the first workflow version loads, and psql's way to see a receipt's content.
CREATE OR REPLACE FUNCTION wallet.receipt_document(p_transaction_id bigint)
RETURNS TABLE (transaction_id bigint, kind text, created_at timestamptz, sender_id bigint, sender_username text,
               receiver_id bigint, receiver_username text, amount numeric, record_sha256 text,
               hold_id bigint, refund_of bigint)
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
  UNION ALL
  -- A refund gives back (part of) a transfer or capture to its sender, and refunds never sum above it.
  SELECT 'refund_mismatch', t.sender_id, t.id,
         format('refund %s of %s does not give back transaction %s (a transfer or capture from %s to %s of at least that much)',
                t.id, t.amount, t.refund_of, t.receiver_id, t.sender_id)
    FROM wallet.transactions t
   WHERE t.kind = 'refund' AND NOT EXISTS (
           SELECT 1 FROM wallet.transactions o WHERE o.id = t.refund_of AND o.kind IN ('transfer', 'capture')
              AND o.sender_id = t.receiver_id AND o.receiver_id = t.sender_id AND o.id < t.id
              AND o.amount >= (SELECT sum(x.amount) FROM wallet.transactions x WHERE x.refund_of = o.id))
  UNION ALL
  -- The hash chains (wallet.verify): each problem as an audit row.
  SELECT v.problem, v.user_id, v.transaction_id,
         format('hash chain of wallet %s, entry %s: %s (see wallet.verify)', v.user_id, v.entry, v.problem)
    FROM wallet.verify() v
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
-- The books: the receiver refunds, everyone reads their balance then, their statement and their chain's head.
GRANT EXECUTE ON FUNCTION wallet.refund TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.balance_at TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.statement TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.statement_summary TO wallet_app;
GRANT EXECUTE ON FUNCTION wallet.chain_head TO wallet_app;

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
-- The books' internals (the chain's primitives, called inside the money functions; its trigger) and the
-- DBA's checks, owner only like wallet.audit.
REVOKE ALL ON FUNCTION wallet.genesis FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.entry_hash FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.chain_transactions FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.refunded_total FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.reject_entry_change FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.verify FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.verify_head FROM PUBLIC;
