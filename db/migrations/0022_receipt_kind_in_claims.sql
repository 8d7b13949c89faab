-- Up Migration
-- Generated from db/procedures by scripts/procedures-migration.ts.

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
-- A receipt of a batch transfer (batch_id set) brings the free receipts of its batch with it: a batch is
-- started as one workflow, so it is claimed whole (p_limit counts the receipts picked first, not those).
-- Each pick reads one partial index in its own order (receipts_unstarted by id, receipts_started by start
-- time), so a claim reads about as many index entries as it returns, whatever the backlog.
-- Each row says its transaction's kind, which the workflow's memo shows operators (a refund or a capture is not
-- a transfer); a new result column, which CREATE OR REPLACE cannot add: hence the DROP (the migration that
-- carries this file re-applies the grants and comments).
DROP FUNCTION IF EXISTS wallet.claim_receipts(text, integer, interval, interval);
CREATE OR REPLACE FUNCTION wallet.claim_receipts(p_claimer text, p_limit integer, p_lease interval,
                                                 p_restart_after interval DEFAULT '10 minutes')
RETURNS TABLE (transaction_id bigint, sender_id bigint, receiver_id bigint, amount numeric, batch_id bigint,
               kind text)
LANGUAGE sql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  WITH unstarted AS (
    SELECT r.transaction_id, r.batch_id FROM wallet.receipts r
     WHERE r.status = 'pending' AND r.workflow_started_at IS NULL
       AND (r.claimed_at IS NULL OR r.claimed_at < now() - p_lease)
     ORDER BY r.transaction_id
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED
  ), lost AS (
    SELECT r.transaction_id, r.batch_id FROM wallet.receipts r
     WHERE r.status = 'pending' AND r.workflow_started_at IS NOT NULL
       AND r.workflow_started_at < now() - p_restart_after
       AND (r.claimed_at IS NULL OR r.claimed_at < now() - p_lease)
     ORDER BY r.workflow_started_at
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED
  ), picked AS (
    SELECT p.transaction_id, p.batch_id
      FROM (SELECT u.transaction_id, u.batch_id, 1 AS source FROM unstarted u
            UNION ALL
            SELECT l.transaction_id, l.batch_id, 2 FROM lost l) p
     ORDER BY p.source, p.transaction_id
     LIMIT p_limit
  ), rest_of_batches AS (
    SELECT r.transaction_id FROM wallet.receipts r
     WHERE r.batch_id IN (SELECT p.batch_id FROM picked p WHERE p.batch_id IS NOT NULL)
       AND r.status = 'pending'
       AND (r.workflow_started_at IS NULL OR r.workflow_started_at < now() - p_restart_after)
       AND (r.claimed_at IS NULL OR r.claimed_at < now() - p_lease)
       AND r.transaction_id NOT IN (SELECT p.transaction_id FROM picked p)
     ORDER BY r.transaction_id
       FOR UPDATE SKIP LOCKED
  ), claimed AS (
    UPDATE wallet.receipts r SET claimed_at = now(), claimed_by = p_claimer
     WHERE r.transaction_id IN (SELECT p.transaction_id FROM picked p
                                UNION ALL SELECT b.transaction_id FROM rest_of_batches b)
    RETURNING r.transaction_id, r.batch_id
  )
  SELECT t.id, t.sender_id, t.receiver_id, t.amount, c.batch_id, t.kind
    FROM claimed c JOIN wallet.transactions t ON t.id = c.transaction_id
   ORDER BY t.id
$$;

-- Every receipt of the given batches, whatever its state: a batch workflow carries them all in its
-- TransactionIds search attribute, even when a claim got only part of its batch (another dispatcher took the
-- rest), so that an operator's search by any of them finds it.
CREATE OR REPLACE FUNCTION wallet.receipt_batch_members(p_batch_ids bigint[])
RETURNS TABLE (batch_id bigint, transaction_ids bigint[])
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT r.batch_id, array_agg(r.transaction_id ORDER BY r.transaction_id)
    FROM wallet.receipts r
   WHERE r.batch_id = ANY (p_batch_ids)
   GROUP BY r.batch_id
$$;

-- The dispatcher's window: receipts whose workflow is running or being started, by every API and dispatcher,
-- counted here rather than in Temporal's visibility store (which lags, and where each count cost the dev
-- server 5.4 ms of CPU with 1,000 workflows running). A receipt leaves the count when its PDF is stored, a
-- few milliseconds before its workflow closes; one started longer ago than p_restart_after (Temporal lost
-- it; claim_receipts starts it again) no longer counts.
-- Two range scans of partial indexes (receipts_started, receipts_claimed), each over the recent rows only:
-- the pending receipts that wait (145,000 after an outage, with the API's lapsed leases) are never read. It
-- used to be one scan of every pending receipt, 12 ms at 145,000 on every dispatcher poll.
CREATE OR REPLACE FUNCTION wallet.receipts_in_flight(p_lease interval, p_restart_after interval DEFAULT '10 minutes')
RETURNS integer
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT ((SELECT count(*) FROM wallet.receipts r
            WHERE r.status = 'pending' AND r.workflow_started_at IS NOT NULL
              AND r.workflow_started_at >= now() - p_restart_after)
        + (SELECT count(*) FROM wallet.receipts r
            WHERE r.status = 'pending' AND r.claimed_at IS NOT NULL
              AND r.claimed_at >= now() - p_lease
              AND (r.workflow_started_at IS NULL OR r.workflow_started_at < now() - p_restart_after)))::integer
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
  -- ::text: RETURN QUERY wants the declared column types exactly, not their domains (migration 0017).
  RETURN QUERY SELECT r.status::text, r.pdf_size, r.pdf_sha256, r.rendered_at, changed
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


-- The receipts of a batch still pending, by id (receiptBatchWorkflow's activity loads their documents with
-- receipt_documents): those already stored, by an earlier attempt killed half way or by their own workflow
-- after a failed print, are not printed again.
CREATE OR REPLACE FUNCTION wallet.pending_batch_receipts(p_batch_id bigint)
RETURNS SETOF bigint
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT r.transaction_id FROM wallet.receipts r
   WHERE r.batch_id = p_batch_id AND r.status = 'pending'
   ORDER BY r.transaction_id
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
  SELECT i.id, r.status::text, r.pdf_size, r.pdf_sha256, r.rendered_at,
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

-- Where /ready's and the backlog metric's counts stop. Above it the exact number changes no decision: 10,000
-- receipts are over 3 minutes of transfers at 50 a second and about 8 minutes of draining at 20 a second, and
-- how late receipts are is oldest_pending_at's to say, exactly. Counting 10,001 entries of a partial index,
-- index-only, is about a millisecond, so a scrape a second per process stays cheap at any backlog (180,000
-- after an hour's Temporal outage at 50 TPS). IMMUTABLE and plain SQL: inlined, so each LIMIT below is a
-- constant when planned (a parameter would leave the planner guessing how many rows it stops at).
-- src/db/rows.ts (RECEIPT_BACKLOG_COUNT_CAP) quotes it; tests/db/receipt-backlog.test.ts checks the two agree.
CREATE OR REPLACE FUNCTION wallet.receipt_backlog_count_cap()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT 10000 $$;

-- For /ready, the backlog metric and operators, at the same cost whatever the backlog. Each count reads at
-- most cap + 1 entries of its partial index (index-only scans: no table rows, no join) and is exact up to the
-- cap; above it the count is the cap and its _capped flag is true ("more than 10,000"), never a made-up
-- number. The oldest pending receipt is that of the lowest pending id (one index entry and one transaction
-- row, exact at any backlog; a transaction that took its id after another but started before it can be older
-- by the length of a transaction). A count needs no order, but ORDER BY the indexes' key keeps the plan on
-- them in every shape: without it, when most rows are pending, a sequential scan that stops at the LIMIT
-- looks as cheap, and it reads whatever rendered history lies before the pending rows
-- (tests/db/receipt-backlog.test.ts checks the plan). The result columns changed (the flags), which CREATE OR
-- REPLACE cannot do: hence the DROP (the migration that carries this file re-applies the grants and comments).
DROP FUNCTION IF EXISTS wallet.receipt_backlog();
CREATE OR REPLACE FUNCTION wallet.receipt_backlog()
RETURNS TABLE (pending bigint, pending_capped boolean, unstarted bigint, unstarted_capped boolean,
               oldest_pending_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT least(p.n, wallet.receipt_backlog_count_cap()), p.n > wallet.receipt_backlog_count_cap(),
         least(u.n, wallet.receipt_backlog_count_cap()), u.n > wallet.receipt_backlog_count_cap(),
         (SELECT t.created_at FROM wallet.receipts r JOIN wallet.transactions t ON t.id = r.transaction_id
           WHERE r.status = 'pending' ORDER BY r.transaction_id LIMIT 1)
    FROM (SELECT count(*) AS n
            FROM (SELECT FROM wallet.receipts r WHERE r.status = 'pending'
                   ORDER BY r.transaction_id LIMIT wallet.receipt_backlog_count_cap() + 1) s) p,
         (SELECT count(*) AS n
            FROM (SELECT FROM wallet.receipts r WHERE r.status = 'pending' AND r.workflow_started_at IS NULL
                   ORDER BY r.transaction_id LIMIT wallet.receipt_backlog_count_cap() + 1) s) u
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
-- Where receipt_backlog's counts stop: read inside it (and by the owner in psql).
REVOKE ALL ON FUNCTION wallet.receipt_backlog_count_cap FROM PUBLIC;
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
COMMENT ON FUNCTION wallet.receipt_backlog IS 'receipt_backlog(): receipts not yet rendered and those without a workflow yet, each exact up to receipt_backlog_count_cap() (10,000) and the cap with its _capped flag true above it, and the oldest pending one''s time, exact (GET /ready, the backlog gauges).';
COMMENT ON FUNCTION wallet.receipt_backlog_count_cap IS 'receipt_backlog_count_cap(): where receipt_backlog()''s counts stop (10,000), so that its cost does not grow with the backlog.';
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
