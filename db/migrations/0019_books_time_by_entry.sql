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


-- ==== db/procedures/statements.sql ====

-- Statement PDFs (table in migration 0014): what the API serves, what the statement workflow stores, and how
-- it knows a period is closed. The statement's content comes from wallet.statement and
-- wallet.statement_summary; these functions only decide when it is final and keep the printed PDF.

-- A stored statement, for its wallet's owner (the API). No row: not rendered yet.
CREATE OR REPLACE FUNCTION wallet.statement_pdf_for(p_user_id bigint, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (pdf bytea, pdf_size integer, pdf_sha256 text, closing_entry bigint, closing_hash text,
               rendered_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT s.pdf, s.pdf_size, s.pdf_sha256, s.closing_entry, s.closing_hash, s.rendered_at
    FROM wallet.statements s
   WHERE s.user_id = p_user_id AND s.period_from = p_from AND s.period_to = p_to
$$;

-- Whether [.., p_to) of this wallet is closed, whose wallet it is (the name the statement prints), and whether a
-- statement is already stored for [p_from, p_to) (stored_size and stored_sha256 not null: no need to print again).
-- closed is true once every entry dated before p_to is committed: a movement takes the wallet's row lock
-- before it dates its entry and keeps it until it commits, so waiting here for that lock (FOR SHARE, released
-- at once by the caller's autocommit) waits out every movement in flight, and any later one dates its entry
-- after this clock reading. A statement read after a true is final: commit lag closed exactly, without a grace
-- period. No wallet: W1012.
CREATE OR REPLACE FUNCTION wallet.close_statement_period(p_user_id bigint, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (username text, closed boolean, stored_size integer, stored_sha256 text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
BEGIN
  PERFORM 1 FROM wallet.wallets w WHERE w.user_id = p_user_id FOR SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user not found' USING ERRCODE = 'W1012', DETAIL = format('no wallet %s', p_user_id);
  END IF;
  RETURN QUERY
    SELECT u.username, clock_timestamp() >= p_to, s.pdf_size, s.pdf_sha256
      FROM wallet.users u
      LEFT JOIN wallet.statements s ON s.user_id = u.id AND s.period_from = p_from AND s.period_to = p_to
     WHERE u.id = p_user_id;
END
$$;

-- Stores a statement's PDF once: the first PDF stored for a wallet and period wins, a later call (a retried
-- activity, a second workflow for the same period) gets the stored one's size and hash back. stored_now is
-- true when this call, or an earlier call by the same renderer (workflow run), stored it. An open period is
-- refused (W1050): only a closed period's statement may be kept for good.
CREATE OR REPLACE FUNCTION wallet.store_statement_pdf(p_user_id bigint, p_from timestamptz, p_to timestamptz,
                                                      p_pdf bytea, p_closing_entry bigint, p_closing_hash text,
                                                      p_rendered_by text DEFAULT NULL)
RETURNS TABLE (pdf_size integer, pdf_sha256 text, rendered_at timestamptz, stored_now boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  inserted boolean;
BEGIN
  IF p_to > now() THEN
    RAISE EXCEPTION 'statement period is still open' USING ERRCODE = 'W1050',
      DETAIL = format('wallet %s: the period ends %s, after now (%s)', p_user_id, p_to, now());
  END IF;
  IF p_pdf IS NULL OR length(p_pdf) = 0 THEN
    RAISE EXCEPTION 'a statement needs a PDF' USING ERRCODE = 'W1015',
      DETAIL = format('wallet %s, period %s to %s: empty PDF', p_user_id, p_from, p_to);
  END IF;
  INSERT INTO wallet.statements AS s (user_id, period_from, period_to, pdf, pdf_size, pdf_sha256, closing_entry,
                                      closing_hash, rendered_by)
  VALUES (p_user_id, p_from, p_to, p_pdf, length(p_pdf), encode(sha256(p_pdf), 'hex'), p_closing_entry,
          p_closing_hash, p_rendered_by)
  ON CONFLICT (user_id, period_from, period_to) DO NOTHING;
  inserted := FOUND;
  RETURN QUERY
    SELECT s.pdf_size, s.pdf_sha256, s.rendered_at,
           inserted OR (p_rendered_by IS NOT NULL AND s.rendered_by = p_rendered_by)
      FROM wallet.statements s
     WHERE s.user_id = p_user_id AND s.period_from = p_from AND s.period_to = p_to;
END
$$;

-- The monthly run's page of wallets: those with entries in [p_from, p_to) and no statement stored for it yet,
-- in id order after p_after_user (keyset paging: a run that continues as new resumes where it was).
CREATE OR REPLACE FUNCTION wallet.statement_wallets(p_from timestamptz, p_to timestamptz, p_after_user bigint,
                                                    p_limit integer)
RETURNS TABLE (user_id bigint)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT w.user_id FROM wallet.wallets w
   WHERE w.user_id > p_after_user
     -- A wallet whose last entry is older than the period has none in it: no search.
     AND (SELECT e.created_at FROM wallet.entries e WHERE e.user_id = w.user_id AND e.entry = w.entries) >= p_from
     AND wallet.entries_before(w.user_id, p_to) > wallet.entries_before(w.user_id, p_from)
     AND NOT EXISTS (SELECT 1 FROM wallet.statements s
                      WHERE s.user_id = w.user_id AND s.period_from = p_from AND s.period_to = p_to)
   ORDER BY w.user_id
   LIMIT p_limit
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
-- Statement PDFs: the API serves the stored ones (the worker renders them).
GRANT EXECUTE ON FUNCTION wallet.statement_pdf_for TO wallet_app;

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
-- Batch receipts: the dispatcher lists a batch's receipts for its search attribute, the activity those pending.
GRANT EXECUTE ON FUNCTION wallet.receipt_batch_members TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.pending_batch_receipts TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.receipt_backlog TO wallet_worker;
-- Statement PDFs: wait for the period to close, read it, store the PDF; the monthly run's wallets.
GRANT EXECUTE ON FUNCTION wallet.close_statement_period TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.statement TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.statement_summary TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.store_statement_pdf TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.statement_wallets TO wallet_worker;

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
REVOKE ALL ON FUNCTION wallet.entries_before FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.chain_transactions FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.refunded_total FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.reject_entry_change FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.verify FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet.verify_head FROM PUBLIC;
-- Stored statements are immutable: their trigger.
REVOKE ALL ON FUNCTION wallet.reject_statement_change FROM PUBLIC;


-- ==== db/comments.sql ====

-- What each object of schema wallet is for, one line each, read in psql by `\df+ wallet.*`, `\d+ wallet.<table>`,
-- `\dp` and `\du+`: the words of docs/dba.md. Canonical and re-applied whole: by migration 0016, then after
-- db/grants.sql by every generated procedures migration (scripts/procedures-migration.ts), because a function
-- that is dropped and created again loses its comment (CREATE OR REPLACE keeps it).
-- tests/db/comments.test.ts fails for anything the roles wallet_app or wallet_worker can reach (schema, table,
-- view, column, function, the roles themselves) that has no comment, and for a comment here that the
-- migrations did not install. To add one: a line in the section of its kind, then a migration that applies
-- this file (any procedures migration does).

COMMENT ON SCHEMA wallet IS 'The ledger: users, wallets, the append-only transaction log, holds and the receipt outbox. Change money only through its functions.';

-- ==== domains: single-column rules, checked from the type cache (migration 0017) ====
COMMENT ON DOMAIN wallet.nonnegative_money IS 'Money that is never negative: a wallet''s balance and held amount.';
COMMENT ON DOMAIN wallet.positive_money IS 'Money moved or reserved: more than zero, two decimals.';
COMMENT ON DOMAIN wallet.transaction_kind IS 'transfer, deposit, capture or refund.';
COMMENT ON DOMAIN wallet.receipt_status IS 'pending (in the outbox) or rendered (its PDF stored).';
COMMENT ON DOMAIN wallet.hold_status IS 'open, captured, released or expired.';

-- ==== roles (cluster-wide; a migrator without the right to comment on them skips with a notice) ====
DO $$
BEGIN
  COMMENT ON ROLE wallet_app IS 'The API (and npm run cli): calls the money, holds, history and user functions; reads wallets, transactions, receipts, holds and user names, never password hashes.';
  COMMENT ON ROLE wallet_worker IS 'The receipt worker and its dispatcher: claims, starts and stores receipts through their functions; no table, and no function that moves money.';
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'roles wallet_app and wallet_worker keep their comments: this migrator may not comment on them';
END
$$;

-- ==== tables ====
COMMENT ON TABLE wallet.users IS 'One row per user; usernames are unique regardless of case. Rows with history cannot be deleted.';
COMMENT ON TABLE wallet.wallets IS 'One wallet per user: its balance and what its open holds reserve. Written only by the ledger functions.';
COMMENT ON TABLE wallet.transactions IS 'The append-only log of every money movement (transfer, deposit, capture, refund): UPDATE, DELETE and TRUNCATE raise W1010.';
COMMENT ON TABLE wallet.receipts IS 'The receipt outbox: one row per transaction, written in its commit; pending until the worker stores its PDF.';
COMMENT ON TABLE wallet.holds IS 'Money reserved by a sender for one receiver until it is captured, released or expires; terms never change (W1025).';
COMMENT ON TABLE wallet.entries IS 'Each wallet''s hash chain: one entry per movement that touches it, numbered 1, 2, 3 with no gap; append-only (W1010). docs/books.md gives the hash.';
COMMENT ON TABLE wallet.statements IS 'Rendered statement PDFs of closed periods, one per wallet and period; never updated or deleted (W1010).';

-- ==== columns ====
COMMENT ON COLUMN wallet.users.id IS 'The user id, which is also the wallet id (wallets.user_id).';
COMMENT ON COLUMN wallet.users.username IS 'Login name: 1 to 150 characters, no control characters or outer spaces, unique regardless of case.';
COMMENT ON COLUMN wallet.users.password_hash IS 'scrypt hash of the password; NULL: can receive money, cannot log in over HTTP. Readable by the owner only.';
COMMENT ON COLUMN wallet.users.created_at IS 'When the user was created.';

COMMENT ON COLUMN wallet.wallets.user_id IS 'The owner (users.id); a wallet has exactly one user and the same id.';
COMMENT ON COLUMN wallet.wallets.balance IS 'The money in the wallet, open holds included; never negative.';
COMMENT ON COLUMN wallet.wallets.held IS 'Total of the open holds this wallet placed as sender; available = balance - held, never negative.';
COMMENT ON COLUMN wallet.wallets.holds_expire_at IS 'Earliest expiry of its open holds (NULL: none): a transfer falling short expires due holds only after it.';
COMMENT ON COLUMN wallet.wallets.updated_at IS 'When the balance or the holds last changed.';

COMMENT ON COLUMN wallet.transactions.id IS 'Transaction id: the receipt''s workflow is receipt-<id>, its search attribute TransactionId.';
COMMENT ON COLUMN wallet.transactions.kind IS 'transfer, deposit, capture (a captured hold) or refund (of refund_of).';
COMMENT ON COLUMN wallet.transactions.sender_id IS 'Paying wallet; NULL for a deposit.';
COMMENT ON COLUMN wallet.transactions.receiver_id IS 'Credited wallet.';
COMMENT ON COLUMN wallet.transactions.amount IS 'Amount moved: greater than zero, two decimals, at most 1000000000000.00.';
COMMENT ON COLUMN wallet.transactions.sender_balance_after IS 'The sender''s balance right after this movement; NULL for a deposit.';
COMMENT ON COLUMN wallet.transactions.receiver_balance_after IS 'The receiver''s balance right after this movement.';
COMMENT ON COLUMN wallet.transactions.created_at IS 'Commit-time clock of the movement (now() of its transaction).';
COMMENT ON COLUMN wallet.transactions.idempotency_key IS 'The caller''s Idempotency-Key, unique per initiator; NULL when none was sent.';
COMMENT ON COLUMN wallet.transactions.request_fingerprint IS 'SHA-256 of the request''s arguments: tells a replay (same key, same request) from a reused key (W1006).';
COMMENT ON COLUMN wallet.transactions.initiator_id IS 'Who the key belongs to: the sender, or the receiver of a deposit (generated).';

COMMENT ON COLUMN wallet.receipts.transaction_id IS 'The transaction this receipt is for (one receipt per transaction).';
COMMENT ON COLUMN wallet.receipts.status IS 'pending until the PDF is stored, then rendered.';
COMMENT ON COLUMN wallet.receipts.workflow_started_at IS 'When its Temporal workflow was started; NULL: the dispatcher starts it at its next poll.';
COMMENT ON COLUMN wallet.receipts.pdf IS 'The rendered one-page A4 PDF; stored once, never replaced.';
COMMENT ON COLUMN wallet.receipts.pdf_size IS 'Size of the PDF in bytes.';
COMMENT ON COLUMN wallet.receipts.pdf_sha256 IS 'SHA-256 of the PDF, hex.';
COMMENT ON COLUMN wallet.receipts.rendered_at IS 'When the PDF was stored.';
COMMENT ON COLUMN wallet.receipts.claimed_at IS 'Start of the dispatcher''s (or the API''s) lease on this receipt; a lease older than 15 s is free again.';
COMMENT ON COLUMN wallet.receipts.claimed_by IS 'Who holds the lease: a dispatcher''s name, or api.';
COMMENT ON COLUMN wallet.receipts.rendered_by IS 'Run id of the workflow execution whose print was stored.';

COMMENT ON COLUMN wallet.holds.id IS 'Hold id, as the API and wallet.capture / wallet.release take it.';
COMMENT ON COLUMN wallet.holds.sender_id IS 'Wallet whose money is reserved.';
COMMENT ON COLUMN wallet.holds.receiver_id IS 'Wallet that may capture or release the hold.';
COMMENT ON COLUMN wallet.holds.amount IS 'Amount reserved.';
COMMENT ON COLUMN wallet.holds.created_at IS 'When the hold was placed.';
COMMENT ON COLUMN wallet.holds.expires_at IS 'From this moment the money is available to the sender again and the hold cannot be captured.';
COMMENT ON COLUMN wallet.holds.sender_available_after IS 'The sender''s available balance right after the hold was placed (what a replay returns).';
COMMENT ON COLUMN wallet.holds.idempotency_key IS 'The sender''s Idempotency-Key for placing the hold; NULL when none was sent.';
COMMENT ON COLUMN wallet.holds.request_fingerprint IS 'SHA-256 of the hold request''s arguments, to tell a replay from a reused key.';
COMMENT ON COLUMN wallet.holds.status IS 'open, captured, released or expired; changes once. An open hold past expires_at reads as expired.';
COMMENT ON COLUMN wallet.holds.closed_at IS 'When the hold was captured or released, or its expires_at once it is marked expired; NULL while open.';
COMMENT ON COLUMN wallet.holds.captured_amount IS 'What the capture moved (the rest was released); NULL unless captured.';
COMMENT ON COLUMN wallet.holds.capture_transaction_id IS 'The capture transaction (transactions.id, kind capture); NULL unless captured.';
COMMENT ON COLUMN wallet.holds.capture_idempotency_key IS 'The receiver''s Idempotency-Key for the capture; NULL when none was sent.';
COMMENT ON COLUMN wallet.holds.capture_fingerprint IS 'SHA-256 of the capture request''s arguments, to tell a replay from a reused key.';
COMMENT ON COLUMN wallet.entries.user_id IS 'The wallet whose chain this entry is on.';
COMMENT ON COLUMN wallet.entries.entry IS 'The entry''s number in its wallet''s chain: 1, 2, 3 with no gap.';
COMMENT ON COLUMN wallet.entries.transaction_id IS 'The transaction that made this entry (a transfer makes one on each wallet).';
COMMENT ON COLUMN wallet.entries.kind IS 'The transaction''s kind: transfer, deposit, capture or refund.';
COMMENT ON COLUMN wallet.entries.counterparty_id IS 'The other wallet of the movement; NULL for a deposit.';
COMMENT ON COLUMN wallet.entries.amount IS 'Signed: positive credits this wallet, negative debits it.';
COMMENT ON COLUMN wallet.entries.balance_after IS 'This wallet''s balance right after the entry: what balance_at and statements read.';
COMMENT ON COLUMN wallet.entries.created_at IS 'The wallet''s own clock: never earlier than the previous entry''s, so time follows the entry number.';
COMMENT ON COLUMN wallet.entries.hash IS 'sha256(previous hash || canonical bytes of this entry); wallet.verify recomputes it.';
COMMENT ON COLUMN wallet.wallets.entries IS 'How many entries the wallet''s chain has: the number of its head.';
COMMENT ON COLUMN wallet.wallets.head_hash IS 'The hash of the chain''s last entry; NULL while the chain is empty (it starts from wallet.genesis).';
COMMENT ON COLUMN wallet.wallets.head_at IS 'The time of the chain''s last entry: the next entry is never earlier.';
COMMENT ON COLUMN wallet.transactions.refund_of IS 'For a refund: the transfer or capture it gives (part of) back; NULL for every other kind.';
COMMENT ON COLUMN wallet.receipts.batch_id IS 'For a batch transfer''s receipts: the first transaction id of its group of up to 100, printed by workflow receipt-batch-<batch_id>.';

-- ==== functions the API calls (wallet_app) ====
COMMENT ON FUNCTION wallet.create_user IS 'create_user(username, password_hash or NULL): a user and a wallet at 0.00; returns the user id. W1008 taken, W1009 invalid name.';
COMMENT ON FUNCTION wallet.set_password IS 'set_password(username, password_hash): replaces the hash (npm run cli -- user password makes one); returns the user id. W1012 unknown user.';
COMMENT ON FUNCTION wallet.user_credentials IS 'user_credentials(username): id, name and password hash, for the API''s login check only.';
COMMENT ON FUNCTION wallet.deposit IS 'deposit(user_id, amount [, key]): credits a wallet (a testing helper); returns transaction_id, balance, created_at, replayed.';
COMMENT ON FUNCTION wallet.transfer IS 'transfer(sender, receiver, amount [, key]): locks both wallets in id order, checks the available balance, moves the money, writes the transaction and its pending receipt; one row.';
COMMENT ON FUNCTION wallet.transfer_batch IS 'transfer_batch(sender, receivers[], amounts[] [, key]): 1 to 10,000 transfers in one commit, all or nothing; one row per item; a failing item is named in the DETAIL.';
COMMENT ON FUNCTION wallet.balance IS 'balance(user_id): user id, username, balance and available (balance minus open, unexpired holds).';
COMMENT ON FUNCTION wallet.history IS 'history(user_id, limit, before): the user''s transactions, sent and received, newest first, keyset-paginated by id.';
COMMENT ON FUNCTION wallet.transaction_for IS 'transaction_for(user_id, id): one transaction the user is party to, or no row.';
COMMENT ON FUNCTION wallet.receipt_for IS 'receipt_for(user_id, id): status and PDF of the receipt of a transaction the user is party to, or no row.';
COMMENT ON FUNCTION wallet.hold IS 'hold(sender, receiver, amount [, expires_in DEFAULT 7 days [, key]]): reserves part of the available balance for the receiver (1 second to 90 days).';
COMMENT ON FUNCTION wallet.capture IS 'capture(hold_id [, amount [, key [, acting_user]]]): moves all or part of an open hold to its receiver as a capture transaction; the rest is released.';
COMMENT ON FUNCTION wallet.release IS 'release(hold_id [, acting_user]): closes an open hold and moves nothing; only the receiver (or a DBA with NULL) may.';
COMMENT ON FUNCTION wallet.holds_for IS 'holds_for(user_id, status, limit, before): the holds the user sent or receives, newest first, status as of now.';
COMMENT ON FUNCTION wallet.hold_for IS 'hold_for(user_id, hold_id): one hold the user is party to, status as of now, or no row.';
COMMENT ON FUNCTION wallet.refund IS 'The original receiver gives all or part of a transfer or capture back to its sender; refunds never sum above it (W1040-W1043, W1001).';
COMMENT ON FUNCTION wallet.balance_at IS 'A wallet''s balance right after its last entry at or before an instant (0.00 before the first; holds do not change it).';
COMMENT ON FUNCTION wallet.chain_head IS 'A wallet''s chain head: entry number, hash (hex) and balance, the receipt a user keeps for verify_head.';
COMMENT ON FUNCTION wallet.statement IS 'A wallet''s entries in [from, to), oldest first, with direction, counterparty, balance after and hash; keyset pages by entry.';
COMMENT ON FUNCTION wallet.statement_summary IS 'Opening and closing balance, total in and out, entry count and closing head of a wallet over [from, to): opening + in - out = closing.';
COMMENT ON FUNCTION wallet.statement_pdf_for IS 'The stored statement PDF of a wallet and closed period, if rendered; W1050 for a period not over yet.';

-- ==== functions of the receipt pipeline (wallet_worker; the API also marks and reads the backlog) ====
COMMENT ON FUNCTION wallet.receipt_backlog IS 'receipt_backlog(): receipts not yet rendered, those without a workflow yet, and the oldest pending one''s time (GET /ready).';
COMMENT ON FUNCTION wallet.mark_receipts_started IS 'mark_receipts_started(ids[]): records that the receipts'' workflows were started and ends their leases; returns how many.';
COMMENT ON FUNCTION wallet.claim_receipts IS 'claim_receipts(claimer, limit, lease, restart_after): leases pending receipts without a workflow (SKIP LOCKED, committed at once) for the dispatcher.';
COMMENT ON FUNCTION wallet.release_receipts IS 'release_receipts(claimer, ids[]): gives back leases whose workflow start failed, for the next poll.';
COMMENT ON FUNCTION wallet.receipts_in_flight IS 'receipts_in_flight(lease, restart_after): receipts started and not yet stored, for the RECEIPT_MAX_IN_FLIGHT window.';
COMMENT ON FUNCTION wallet.receipt_document IS 'receipt_document(transaction_id): what a receipt prints (parties, amount, time, fingerprint). W1013 unknown transaction.';
COMMENT ON FUNCTION wallet.receipt_documents IS 'receipt_documents(ids[]): receipt_document for many transactions in one statement (a coalesced print).';
COMMENT ON FUNCTION wallet.store_receipt_pdf IS 'store_receipt_pdf(transaction_id, pdf): stores the PDF once (a stored one is never replaced); stored_now says whether this call did. W1015 empty.';
COMMENT ON FUNCTION wallet.store_receipt_pdfs IS 'store_receipt_pdfs(ids[], pdfs[], run_ids[]): store_receipt_pdf for a whole print in one statement, recording the workflow run.';
COMMENT ON FUNCTION wallet.receipt_batch_members IS 'The transaction ids of each batch group''s receipts, for the dispatcher''s one start per group.';
COMMENT ON FUNCTION wallet.pending_batch_receipts IS 'The receipts of one batch group still pending, for a batch workflow''s (retried) print.';
COMMENT ON FUNCTION wallet.close_statement_period IS 'Waits for the wallet''s row lock so that no movement dated before the period''s end is still uncommitted.';
COMMENT ON FUNCTION wallet.store_statement_pdf IS 'Stores a rendered statement once; a later store of the same statement keeps the first PDF.';
COMMENT ON FUNCTION wallet.statement_wallets IS 'The wallets with entries in a period and no stored statement for it, a page at a time, for the monthly run.';

-- ==== owner only: DBA tools ====
COMMENT ON FUNCTION wallet.audit IS 'audit(): one row per disagreement in the books (balances, totals, holds, receipts); no row when all is well.';
COMMENT ON FUNCTION wallet.sweep_expired_holds IS 'sweep_expired_holds(wallets DEFAULT 100): bookkeeping only, marks due holds expired; nothing depends on it running.';
COMMENT ON FUNCTION wallet.verify IS 'Rows only where a hash chain breaks: altered entry, gap or duplicate, head or balance mismatch; nothing when the books are intact.';
COMMENT ON FUNCTION wallet.verify_head IS 'True only if the wallet''s chain recomputed from its genesis up to an entry ends on the kept hash.';

-- ==== owner only: internal helpers, called inside the functions above ====
COMMENT ON FUNCTION wallet.assert_valid_amount IS 'Internal: raises W1005 for a NULL, non-positive, over-limit or unrounded amount.';
COMMENT ON FUNCTION wallet.assert_valid_idempotency_key IS 'Internal: raises W1007 unless the key is 1 to 255 printable ASCII characters.';
COMMENT ON FUNCTION wallet.request_fingerprint IS 'Internal: SHA-256 of a request''s arguments, stored beside its idempotency key.';
COMMENT ON FUNCTION wallet.claim_idempotency_key IS 'Internal: serialises callers sharing a key (W1011 at once for the second) and returns the transaction an earlier call made with it.';
COMMENT ON FUNCTION wallet.max_balance IS 'Internal: 999999999999999999.99, the largest balance numeric(20,2) holds (W1014 beyond).';
COMMENT ON FUNCTION wallet.check_available IS 'Internal: raises W1001 with wallet, balance, held and available when the available balance is below the amount.';
COMMENT ON FUNCTION wallet.expire_due_holds IS 'Internal: marks a locked wallet''s due holds expired and recomputes held and holds_expire_at.';
COMMENT ON FUNCTION wallet.effective_hold_status IS 'Internal: a hold''s status as of now (open past expires_at reads expired).';
COMMENT ON FUNCTION wallet.claim_hold_key IS 'Internal: serialises callers sharing a hold or capture key (W1011 for the second) and returns the hold an earlier call made.';
COMMENT ON FUNCTION wallet.open_hold IS 'Internal: re-reads the hold under its sender''s wallet lock; W1022 unless it is still open and unexpired.';
COMMENT ON FUNCTION wallet.hold_to_settle IS 'Internal: the hold as the acting user may settle it: W1021 missing or not a party, W1024 the sender.';
COMMENT ON FUNCTION wallet.unhold IS 'Internal: takes a closing hold''s amount off its sender''s held total.';
COMMENT ON FUNCTION wallet.reject_transaction_change IS 'Trigger: transactions are append-only (W1010 on UPDATE, DELETE, TRUNCATE).';
COMMENT ON FUNCTION wallet.refuse_deleting_history IS 'Trigger: no user or wallet with history is deleted or truncated (23001).';
COMMENT ON FUNCTION wallet.guard_hold_change IS 'Trigger: a hold''s terms never change and it closes exactly once; no DELETE or TRUNCATE (W1025).';
COMMENT ON FUNCTION wallet.genesis IS 'Internal: the fixed hash a wallet''s chain starts from (docs/books.md).';
COMMENT ON FUNCTION wallet.entries_before IS 'Internal: how many of a wallet''s entries are dated before an instant, by a binary search over the entry numbers (entry times never go backwards).';
COMMENT ON FUNCTION wallet.entry_hash IS 'Internal: sha256 of the previous hash and an entry''s canonical bytes (docs/books.md).';
COMMENT ON FUNCTION wallet.chain_transactions IS 'Internal: appends the entries of new transactions to their wallets'' chains, under the wallet locks already held.';
