-- Up Migration
-- The ledger's tables. Money is numeric(20,2): exact, two decimals, never a float.
CREATE SCHEMA wallet;

CREATE TABLE wallet.users (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username      text NOT NULL,
  password_hash text,          -- NULL: the user can receive money but cannot log in over HTTP
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT username_shape CHECK (
    length(username) BETWEEN 1 AND 150
    AND username = btrim(username)
    AND username !~ '[[:cntrl:]]'
  )
);
-- "Alice" and "alice" are one user: uniqueness ignores case.
CREATE UNIQUE INDEX users_username_lower_key ON wallet.users (lower(username));

CREATE TABLE wallet.wallets (
  user_id    bigint PRIMARY KEY REFERENCES wallet.users (id) ON DELETE RESTRICT,
  balance    numeric(20, 2) NOT NULL DEFAULT 0 CONSTRAINT balance_not_negative CHECK (balance >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE wallet.transactions (
  id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind                   text NOT NULL CHECK (kind IN ('transfer', 'deposit')),
  sender_id              bigint REFERENCES wallet.wallets (user_id) ON DELETE RESTRICT,
  receiver_id            bigint NOT NULL REFERENCES wallet.wallets (user_id) ON DELETE RESTRICT,
  amount                 numeric(20, 2) NOT NULL CHECK (amount > 0),
  sender_balance_after   numeric(20, 2),
  receiver_balance_after numeric(20, 2) NOT NULL,
  created_at             timestamptz NOT NULL DEFAULT now(),
  idempotency_key        text,
  request_fingerprint    bytea,  -- sha256 of the request's arguments, to tell a replay from a reused key
  -- Keys are scoped to the user who made the request: the sender of a transfer, the owner of a deposit.
  initiator_id           bigint GENERATED ALWAYS AS (coalesce(sender_id, receiver_id)) STORED,
  CONSTRAINT transfer_has_sender CHECK ((kind = 'transfer') = (sender_id IS NOT NULL)),
  CONSTRAINT not_to_self CHECK (sender_id IS DISTINCT FROM receiver_id),
  CONSTRAINT sender_balance_for_transfers CHECK ((sender_id IS NULL) = (sender_balance_after IS NULL)),
  CONSTRAINT key_has_fingerprint CHECK ((idempotency_key IS NULL) = (request_fingerprint IS NULL))
);
CREATE UNIQUE INDEX transactions_idempotency_key ON wallet.transactions (initiator_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX transactions_by_sender ON wallet.transactions (sender_id, id) WHERE sender_id IS NOT NULL;
CREATE INDEX transactions_by_receiver ON wallet.transactions (receiver_id, id);

-- The receipt outbox: written in the same transaction as the money movement, so no receipt is ever lost.
CREATE TABLE wallet.receipts (
  transaction_id      bigint PRIMARY KEY REFERENCES wallet.transactions (id) ON DELETE RESTRICT,
  status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'rendered')),
  workflow_started_at timestamptz,
  pdf                 bytea,
  pdf_size            integer,
  pdf_sha256          text,
  rendered_at         timestamptz,
  CONSTRAINT rendered_has_pdf CHECK (
    (status = 'rendered') = (pdf IS NOT NULL AND pdf_size IS NOT NULL AND pdf_sha256 IS NOT NULL
                             AND rendered_at IS NOT NULL)
  )
);
-- Small by design: only receipts still waiting are indexed, which is what the dispatcher and /ready scan.
CREATE INDEX receipts_pending ON wallet.receipts (transaction_id) WHERE status = 'pending';

-- History is append-only, enforced here rather than by convention.
CREATE FUNCTION wallet.reject_transaction_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'transactions are append-only'
    USING ERRCODE = 'W1010',
          DETAIL = format('%s on wallet.transactions is not allowed; record a new transaction instead', TG_OP);
END
$$;
CREATE TRIGGER transactions_no_update_or_delete BEFORE UPDATE OR DELETE ON wallet.transactions
  FOR EACH ROW EXECUTE FUNCTION wallet.reject_transaction_change();
CREATE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON wallet.transactions
  FOR EACH STATEMENT EXECUTE FUNCTION wallet.reject_transaction_change();

-- The application role: it calls the functions (which run as their owner) and reads, never writes directly.
DO $$
BEGIN
  CREATE ROLE wallet_app NOLOGIN;
EXCEPTION WHEN duplicate_object THEN
  NULL; -- roles are cluster-wide: a second database in the same cluster finds it already there
END
$$;
GRANT USAGE ON SCHEMA wallet TO wallet_app;
GRANT SELECT ON wallet.wallets, wallet.transactions, wallet.receipts TO wallet_app;
GRANT SELECT (id, username, created_at) ON wallet.users TO wallet_app; -- never the password hashes
ALTER DEFAULT PRIVILEGES IN SCHEMA wallet REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA wallet GRANT EXECUTE ON FUNCTIONS TO wallet_app;
REVOKE EXECUTE ON FUNCTION wallet.reject_transaction_change() FROM PUBLIC, wallet_app;

-- Down Migration
DROP SCHEMA wallet CASCADE;
