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

-- How many of the wallet's entries are dated before p_at: the number of the last one, since entries are
-- numbered 1..n and their times never go backwards with the number (docs/books.md). A binary search over the
-- numbers by the primary key finds it in about log2(n) probes, so no movement pays for an index on time.
-- Read in the caller's snapshot (STABLE); the entries alone decide, not the head kept on the wallet row.
CREATE OR REPLACE FUNCTION wallet.entries_before(p_user_id bigint, p_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = wallet, pg_temp
AS $$
DECLARE
  below bigint := 0; -- entries 1..below are dated before p_at (none, to begin with)
  upper bigint;      -- entries from upper on are not (from one past the last, to begin with)
  middle bigint;
  at timestamptz;
BEGIN
  SELECT w.entries + 1 INTO upper FROM wallet.wallets w WHERE w.user_id = p_user_id;
  WHILE upper - below > 1 LOOP
    middle := below + (upper - below) / 2;
    SELECT e.created_at INTO at FROM wallet.entries e WHERE e.user_id = p_user_id AND e.entry = middle;
    IF at < p_at THEN
      below := middle;
    ELSE
      upper := middle;
    END IF;
  END LOOP;
  RETURN below;
END
$$;

-- The balance right after the last entry at or before p_at (0.00 before the first); NULL for no such wallet.
-- Holds never change a balance, only what is available, so they play no part here. "At or before" is
-- "before the next microsecond", a timestamp's resolution.
CREATE OR REPLACE FUNCTION wallet.balance_at(p_user_id bigint, p_at timestamptz)
RETURNS numeric
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT coalesce((SELECT e.balance_after FROM wallet.entries e
                    WHERE e.user_id = w.user_id
                      AND e.entry = wallet.entries_before(w.user_id, p_at + interval '1 microsecond')),
                  0.00::numeric(20, 2))
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

-- The entries with times in [p_from, p_to), oldest first: the numbers after the last entry before p_from up to
-- the last before p_to (wallet.entries_before). Pages: p_limit rows after entry p_after_entry (the last entry
-- of the previous page).
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
    FROM (SELECT wallet.entries_before(p_user_id, p_from) AS first_before,
                 wallet.entries_before(p_user_id, p_to) AS last) r
    JOIN wallet.entries e ON e.user_id = p_user_id
                         AND e.entry > greatest(r.first_before, coalesce(p_after_entry, 0)) AND e.entry <= r.last
   ORDER BY e.entry
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
         r.last, encode(coalesce(c.hash, wallet.genesis(w.user_id)), 'hex')
    FROM wallet.wallets w
    CROSS JOIN LATERAL (SELECT wallet.entries_before(w.user_id, p_from) AS first_before,
                               wallet.entries_before(w.user_id, p_to) AS last) r
    LEFT JOIN wallet.entries o ON o.user_id = w.user_id AND o.entry = r.first_before
    LEFT JOIN wallet.entries c ON c.user_id = w.user_id AND c.entry = r.last
    CROSS JOIN LATERAL (SELECT sum(e.amount) FILTER (WHERE e.amount > 0) AS total_in,
                               -sum(e.amount) FILTER (WHERE e.amount < 0) AS total_out, count(*) AS n
                          FROM wallet.entries e
                         WHERE e.user_id = w.user_id AND e.entry > r.first_before AND e.entry <= r.last) p
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
