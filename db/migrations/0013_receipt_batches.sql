-- Up Migration
-- Batch receipts and a dispatcher whose queries read only what they return (issue 19).
-- batch_id: the receipts of a batch transfer share one receipt workflow per 100 items, receipt-batch-<batch_id>
-- (the first of those items' transaction ids), instead of a workflow each.
ALTER TABLE wallet.receipts ADD COLUMN batch_id bigint;
CREATE INDEX receipts_by_batch ON wallet.receipts (batch_id) WHERE batch_id IS NOT NULL;

-- Partial indexes that fit the dispatcher's predicates exactly, so that none of its queries reads the
-- pending receipts that merely wait (180,000 after an hour's Temporal outage at 50 TPS):
-- - the claim takes the lowest unstarted ids (receipts_unstarted) and the workflows started too long ago
--   (receipts_started, by start time);
-- - the window counts the recently started (receipts_started) and the recently claimed (receipts_claimed, by
--   claim time: an API whose start failed leaves its lease behind, so old claims are many).
CREATE INDEX receipts_unstarted ON wallet.receipts (transaction_id)
  WHERE status = 'pending' AND workflow_started_at IS NULL;
CREATE INDEX receipts_started ON wallet.receipts (workflow_started_at)
  WHERE status = 'pending' AND workflow_started_at IS NOT NULL;
CREATE INDEX receipts_claimed ON wallet.receipts (claimed_at)
  WHERE status = 'pending' AND claimed_at IS NOT NULL;

-- claim_receipts returns batch_id too: a new result type cannot be made by CREATE OR REPLACE.
DROP FUNCTION wallet.claim_receipts(text, integer, interval, interval);


-- Generated from db/procedures by scripts/procedures-migration.ts.

-- ==== db/procedures/batch.sql ====

-- Fan-out: one sender, many receivers, one commit, all or nothing. Each item is its own transaction row with
-- its own receipt, exactly as if wallet.transfer had been called for it in order; the receipts are printed
-- by batch workflows (see the receipts insert below), not one workflow each.
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
    -- The receipts go to one receipt workflow per 100 items (receipt-batch-<batch_id>, batch_id being the
    -- first of those items' ids), started by the dispatcher: no API lease (claimed_at NULL whoever calls).
    -- 100, because the workflow lists its receipts in the TransactionIds search attribute, and Temporal's
    -- default limit of 2 KB per attribute value holds about 150 ids of 10 digits.
    INSERT INTO wallet.receipts (transaction_id, batch_id, claimed_at, claimed_by)
    SELECT g.id, first_value(g.id) OVER (PARTITION BY g.part ORDER BY g.id), NULL, NULL
      FROM (SELECT m.id, (row_number() OVER (ORDER BY m.id) - 1) / 100 AS part FROM made m) g
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
CREATE OR REPLACE FUNCTION wallet.claim_receipts(p_claimer text, p_limit integer, p_lease interval,
                                                 p_restart_after interval DEFAULT '10 minutes')
RETURNS TABLE (transaction_id bigint, sender_id bigint, receiver_id bigint, amount numeric, batch_id bigint)
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
  SELECT t.id, t.sender_id, t.receiver_id, t.amount, c.batch_id
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

-- For /ready and operators. The counts read only the partial indexes (index-only scans: no table rows, no
-- join); the oldest pending receipt is that of the lowest pending id (one index entry; a transaction that took
-- its id after another but started before it can be older by the length of a transaction), where there used
-- to be a join of every pending receipt with its transaction. The counts still grow with the backlog, at an
-- index-only scan's pace: bench/receipts/dispatcher-queries.ts shows by how much.
CREATE OR REPLACE FUNCTION wallet.receipt_backlog()
RETURNS TABLE (pending bigint, unstarted bigint, oldest_pending_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT (SELECT count(*) FROM wallet.receipts r WHERE r.status = 'pending'),
         (SELECT count(*) FROM wallet.receipts r WHERE r.status = 'pending' AND r.workflow_started_at IS NULL),
         (SELECT t.created_at FROM wallet.receipts r JOIN wallet.transactions t ON t.id = r.transaction_id
           WHERE r.status = 'pending' ORDER BY r.transaction_id LIMIT 1)
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
-- Batch receipts: the dispatcher lists a batch's receipts for its search attribute, the activity those pending.
GRANT EXECUTE ON FUNCTION wallet.receipt_batch_members TO wallet_worker;
GRANT EXECUTE ON FUNCTION wallet.pending_batch_receipts TO wallet_worker;
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
