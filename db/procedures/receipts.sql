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
