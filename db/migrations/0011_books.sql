-- Up Migration
-- The books (issue 18): every wallet's entries form a hash chain, and a transfer or capture can be refunded.
-- docs/books.md specifies the chain (canonical bytes, genesis, times) for anyone who recomputes it.

-- The wallet row keeps its chain's head, advanced under the row lock every movement already takes.
ALTER TABLE wallet.wallets
  ADD COLUMN entries   bigint NOT NULL DEFAULT 0,  -- how many entries the chain has: the head's number
  ADD COLUMN head_hash bytea,                      -- the head's hash; NULL while the chain is empty (genesis)
  ADD COLUMN head_at   timestamptz;                -- the head's time: the next entry is never earlier

-- A refund is a transaction of its own that names the original. The refund rule rides on the kind check
-- rather than a constraint of its own: every CHECK is re-read on every insert, and the transfer pays for it.
ALTER TABLE wallet.transactions ADD COLUMN refund_of bigint,
  DROP CONSTRAINT transactions_kind_check,
  ADD CONSTRAINT transactions_kind_check CHECK (
    kind IN ('transfer', 'deposit', 'capture', 'refund') AND (kind = 'refund') = (refund_of IS NOT NULL)
  );
CREATE INDEX transactions_refunds ON wallet.transactions (refund_of) WHERE refund_of IS NOT NULL;

-- One row per wallet per movement that touches it. amount is signed (+ credit, - debit); created_at is the
-- wallet's own clock: max(clock at the movement, the previous entry's time), so it never goes backwards
-- with the entry number (docs/books.md says why transaction times cannot serve).
CREATE TABLE wallet.entries (
  user_id         bigint NOT NULL,
  entry           bigint NOT NULL,
  transaction_id  bigint NOT NULL,
  kind            text NOT NULL,
  counterparty_id bigint,
  amount          numeric(20, 2) NOT NULL,
  balance_after   numeric(20, 2) NOT NULL,
  created_at      timestamptz NOT NULL,
  hash            bytea NOT NULL,
  PRIMARY KEY (user_id, entry)
);
-- balance_at and statements: the last entry at or before an instant, the entries of a period.
CREATE INDEX entries_by_time ON wallet.entries (user_id, created_at, entry);

CREATE FUNCTION wallet.reject_entry_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'entries are append-only'
    USING ERRCODE = 'W1010',
          DETAIL = format('%s on wallet.entries is not allowed; record a new transaction instead', TG_OP);
END
$$;
REVOKE EXECUTE ON FUNCTION wallet.reject_entry_change() FROM PUBLIC;

-- The chain's two primitives, as db/procedures/books.sql defines them (the procedures migration that follows
-- installs that file again); needed here for the backfill.
CREATE FUNCTION wallet.genesis(p_user_id bigint)
RETURNS bytea
LANGUAGE sql STABLE
AS $$
  SELECT pg_catalog.sha256(pg_catalog.convert_to('genesis|' OPERATOR(pg_catalog.||) p_user_id::pg_catalog.text,
                                                 'UTF8'))
$$;

CREATE FUNCTION wallet.entry_hash(
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

-- Existing history gets its chains, in transaction id order (the order its movements locked each wallet),
-- so that an upgraded database verifies clean. Times are the transactions' own, made non-decreasing.
DO $$
DECLARE
  r    record;
  cur  bigint;
  n    bigint;
  prev bytea;
  at   timestamptz;
BEGIN
  FOR r IN
    SELECT s.* FROM (
      SELECT t.sender_id AS user_id, t.id, t.kind, t.receiver_id AS counterparty_id, -t.amount AS amount,
             t.sender_balance_after AS balance_after, t.created_at
        FROM wallet.transactions t WHERE t.sender_id IS NOT NULL
      UNION ALL
      SELECT t.receiver_id, t.id, t.kind, t.sender_id, t.amount, t.receiver_balance_after, t.created_at
        FROM wallet.transactions t) s
     ORDER BY s.user_id, s.id
  LOOP
    IF r.user_id IS DISTINCT FROM cur THEN
      IF cur IS NOT NULL THEN
        UPDATE wallet.wallets w SET entries = n, head_hash = prev, head_at = at WHERE w.user_id = cur;
      END IF;
      cur := r.user_id;
      n := 0;
      prev := wallet.genesis(cur);
      at := NULL;
    END IF;
    n := n + 1;
    at := greatest(at, r.created_at);
    prev := wallet.entry_hash(prev, cur, n, r.id, r.kind, r.counterparty_id, r.amount, r.balance_after, at);
    INSERT INTO wallet.entries (user_id, entry, transaction_id, kind, counterparty_id, amount, balance_after,
                                created_at, hash)
    VALUES (cur, n, r.id, r.kind, r.counterparty_id, r.amount, r.balance_after, at, prev);
  END LOOP;
  IF cur IS NOT NULL THEN
    UPDATE wallet.wallets w SET entries = n, head_hash = prev, head_at = at WHERE w.user_id = cur;
  END IF;
END
$$;

-- Append-only from here on, as transactions are: even a superuser hits these (unless triggers are disabled).
CREATE TRIGGER entries_no_update_or_delete BEFORE UPDATE OR DELETE ON wallet.entries
  FOR EACH ROW EXECUTE FUNCTION wallet.reject_entry_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON wallet.entries
  FOR EACH STATEMENT EXECUTE FUNCTION wallet.reject_entry_change();

-- The API reads what it reads of the ledger (the CLI's verifier among it) through its role.
GRANT SELECT ON wallet.entries TO wallet_app;

-- The functions whose result shape grows (refund_of, refunded_total) are dropped here and recreated by the
-- procedures migration that follows.
DROP FUNCTION wallet.history(bigint, integer, bigint);
DROP FUNCTION wallet.transaction_for(bigint, bigint);
DROP FUNCTION wallet.receipt_document(bigint);
DROP FUNCTION wallet.receipt_documents(bigint[]);

-- Down Migration
DROP TABLE wallet.entries;
DROP FUNCTION wallet.reject_entry_change();
DROP FUNCTION wallet.entry_hash(bytea, bigint, bigint, bigint, text, bigint, numeric, numeric, timestamptz);
DROP FUNCTION wallet.genesis(bigint);
DROP INDEX wallet.transactions_refunds;
ALTER TABLE wallet.transactions DROP CONSTRAINT transactions_kind_check,
  ADD CONSTRAINT transactions_kind_check CHECK (kind IN ('transfer', 'deposit', 'capture')),
  DROP COLUMN refund_of;
ALTER TABLE wallet.wallets DROP COLUMN head_at, DROP COLUMN head_hash, DROP COLUMN entries;
