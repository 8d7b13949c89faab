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
      -- ::numeric: RETURN QUERY wants the declared column types exactly, not their domains (migration 0017).
      RETURN QUERY
        SELECT row_number() OVER (ORDER BY t.id)::integer, t.id, t.receiver_id, t.amount::numeric, t.sender_balance_after,
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
  SELECT row_number() OVER (ORDER BY t.id)::integer, t.id, t.receiver_id, t.amount::numeric, t.sender_balance_after,
         t.receiver_balance_after, t.created_at, false
    FROM wallet.transactions t WHERE t.id = ANY (made_ids) ORDER BY t.id;
END
$$;
