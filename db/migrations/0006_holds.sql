-- Up Migration
-- Holds (two-phase transfers): money reserved for one receiver until it is captured, released or expires.
-- The wallet row carries what the transfer's funds check needs (the total of its open holds and their
-- earliest expiry), so the hot path reads one locked row and never sums holds.
ALTER TABLE wallet.wallets
  ADD COLUMN held            numeric(20, 2) NOT NULL DEFAULT 0 CONSTRAINT held_not_negative CHECK (held >= 0),
  ADD COLUMN holds_expire_at timestamptz,  -- earliest expires_at of the open holds; NULL when there are none
  ADD CONSTRAINT held_within_balance CHECK (held <= balance);

CREATE TABLE wallet.holds (
  id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sender_id               bigint NOT NULL REFERENCES wallet.wallets (user_id) ON DELETE RESTRICT,
  receiver_id             bigint NOT NULL REFERENCES wallet.wallets (user_id) ON DELETE RESTRICT,
  amount                  numeric(20, 2) NOT NULL CHECK (amount > 0),
  created_at              timestamptz NOT NULL DEFAULT now(),
  expires_at              timestamptz NOT NULL,
  sender_available_after  numeric(20, 2) NOT NULL,  -- what the hold's caller was told, for a replay
  idempotency_key         text,
  request_fingerprint     bytea,
  status                  text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'captured', 'released', 'expired')),
  closed_at               timestamptz,
  captured_amount         numeric(20, 2),
  capture_transaction_id  bigint REFERENCES wallet.transactions (id) ON DELETE RESTRICT,
  capture_idempotency_key text,  -- scoped to the receiver, who captures
  capture_fingerprint     bytea,
  CONSTRAINT hold_not_to_self CHECK (sender_id <> receiver_id),
  CONSTRAINT hold_expires_after_creation CHECK (expires_at > created_at),
  CONSTRAINT hold_key_has_fingerprint CHECK ((idempotency_key IS NULL) = (request_fingerprint IS NULL)),
  CONSTRAINT closed_when_not_open CHECK ((status = 'open') = (closed_at IS NULL)),
  CONSTRAINT captured_has_transaction CHECK (
    (status = 'captured') = (capture_transaction_id IS NOT NULL AND captured_amount IS NOT NULL)
  ),
  CONSTRAINT capture_within_hold CHECK (captured_amount > 0 AND captured_amount <= amount),
  CONSTRAINT capture_key_only_when_captured CHECK (
    (capture_idempotency_key IS NULL OR status = 'captured')
    AND (capture_idempotency_key IS NULL) = (capture_fingerprint IS NULL)
  )
);
CREATE UNIQUE INDEX holds_idempotency_key ON wallet.holds (sender_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX holds_capture_idempotency_key ON wallet.holds (receiver_id, capture_idempotency_key)
  WHERE capture_idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX holds_capture_transaction ON wallet.holds (capture_transaction_id)
  WHERE capture_transaction_id IS NOT NULL;
CREATE INDEX holds_by_sender ON wallet.holds (sender_id, id);
CREATE INDEX holds_by_receiver ON wallet.holds (receiver_id, id);
-- What lazy expiry and the sweep look for: only open holds are indexed.
CREATE INDEX holds_open_by_expiry ON wallet.holds (sender_id, expires_at) WHERE status = 'open';

-- A capture is a transaction with a sender, like a transfer.
ALTER TABLE wallet.transactions DROP CONSTRAINT transactions_kind_check,
  ADD CONSTRAINT transactions_kind_check CHECK (kind IN ('transfer', 'deposit', 'capture')),
  DROP CONSTRAINT transfer_has_sender,
  ADD CONSTRAINT transfer_has_sender CHECK ((kind <> 'deposit') = (sender_id IS NOT NULL));

-- A hold's terms never change, and it ends exactly once: open -> captured | released | expired.
CREATE FUNCTION wallet.guard_hold_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'holds cannot be deleted'
      USING ERRCODE = 'W1025', DETAIL = format('%s on wallet.holds is not allowed; release the hold instead', TG_OP);
  END IF;
  IF OLD.status <> 'open' THEN
    RAISE EXCEPTION 'hold is already closed'
      USING ERRCODE = 'W1025', DETAIL = format('hold %s is %s; a closed hold never changes', OLD.id, OLD.status);
  END IF;
  IF NEW.status = 'open'
     OR (NEW.id, NEW.sender_id, NEW.receiver_id, NEW.amount, NEW.created_at, NEW.expires_at,
         NEW.sender_available_after, NEW.idempotency_key, NEW.request_fingerprint)
        IS DISTINCT FROM
        (OLD.id, OLD.sender_id, OLD.receiver_id, OLD.amount, OLD.created_at, OLD.expires_at,
         OLD.sender_available_after, OLD.idempotency_key, OLD.request_fingerprint) THEN
    RAISE EXCEPTION 'a hold''s terms never change'
      USING ERRCODE = 'W1025',
            DETAIL = format('hold %s: only its closing (status, closed_at, capture) may be written, once', OLD.id);
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER holds_close_once BEFORE UPDATE OR DELETE ON wallet.holds
  FOR EACH ROW EXECUTE FUNCTION wallet.guard_hold_change();
CREATE TRIGGER holds_no_truncate BEFORE TRUNCATE ON wallet.holds
  FOR EACH STATEMENT EXECUTE FUNCTION wallet.guard_hold_change();

GRANT SELECT ON wallet.holds TO wallet_app;
REVOKE EXECUTE ON FUNCTION wallet.guard_hold_change() FROM PUBLIC, wallet_app;

-- The functions whose result shape grows are dropped here and recreated by the procedures migration.
DROP FUNCTION wallet.balance(bigint);
DROP FUNCTION wallet.receipt_document(bigint);

-- Down Migration
DROP FUNCTION IF EXISTS wallet.balance(bigint);
DROP FUNCTION IF EXISTS wallet.receipt_document(bigint);
DROP TABLE wallet.holds;
DROP FUNCTION wallet.guard_hold_change();
ALTER TABLE wallet.transactions DROP CONSTRAINT transactions_kind_check,
  ADD CONSTRAINT transactions_kind_check CHECK (kind IN ('transfer', 'deposit')),
  DROP CONSTRAINT transfer_has_sender,
  ADD CONSTRAINT transfer_has_sender CHECK ((kind = 'transfer') = (sender_id IS NOT NULL));
ALTER TABLE wallet.wallets DROP COLUMN holds_expire_at, DROP COLUMN held;
