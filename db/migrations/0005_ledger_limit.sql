-- Up Migration
-- The hot path's foreign keys go: every transfer paid an RI check (a KEY SHARE lock and an index probe of a
-- wallet it had just locked FOR UPDATE) for the transaction's two wallets and for the receipt's transaction,
-- about a tenth of its CPU. Rows are only inserted by the ledger functions, right after locking or inserting
-- their parents; what the keys still guarded is deletion, and triggers guard that now, with the same SQLSTATE.
ALTER TABLE wallet.transactions DROP CONSTRAINT transactions_sender_id_fkey;
ALTER TABLE wallet.transactions DROP CONSTRAINT transactions_receiver_id_fkey;
ALTER TABLE wallet.receipts DROP CONSTRAINT receipts_transaction_id_fkey;

-- A wallet with history cannot be deleted (transactions themselves are append-only, so a receipt's
-- transaction never goes away). A concurrent transfer into the wallet holds its row lock, so this check runs
-- after that transfer commits and sees it.
CREATE FUNCTION wallet.refuse_deleting_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    IF EXISTS (SELECT 1 FROM wallet.transactions) THEN
      RAISE EXCEPTION 'wallets with history cannot be deleted'
        USING ERRCODE = 'restrict_violation', DETAIL = 'TRUNCATE of wallet.wallets while transactions exist';
    END IF;
    RETURN NULL;
  END IF;
  IF EXISTS (SELECT 1 FROM wallet.transactions t WHERE t.sender_id = OLD.user_id)
     OR EXISTS (SELECT 1 FROM wallet.transactions t WHERE t.receiver_id = OLD.user_id) THEN
    RAISE EXCEPTION 'wallets with history cannot be deleted'
      USING ERRCODE = 'restrict_violation', DETAIL = format('wallet %s has transactions', OLD.user_id);
  END IF;
  RETURN OLD;
END
$$;
CREATE TRIGGER wallets_keep_history BEFORE DELETE ON wallet.wallets
  FOR EACH ROW EXECUTE FUNCTION wallet.refuse_deleting_history();
CREATE TRIGGER wallets_keep_history_truncate BEFORE TRUNCATE ON wallet.wallets
  FOR EACH STATEMENT EXECUTE FUNCTION wallet.refuse_deleting_history();
REVOKE EXECUTE ON FUNCTION wallet.refuse_deleting_history() FROM PUBLIC, wallet_app;

-- open_receipt's INSERT is now inline in the money functions, and the NOTIFY is gone (the dispatcher polls).
DROP FUNCTION wallet.open_receipt(bigint);

-- Down Migration
DROP TRIGGER wallets_keep_history_truncate ON wallet.wallets;
DROP TRIGGER wallets_keep_history ON wallet.wallets;
DROP FUNCTION wallet.refuse_deleting_history();
ALTER TABLE wallet.receipts ADD CONSTRAINT receipts_transaction_id_fkey
  FOREIGN KEY (transaction_id) REFERENCES wallet.transactions (id) ON DELETE RESTRICT;
ALTER TABLE wallet.transactions ADD CONSTRAINT transactions_receiver_id_fkey
  FOREIGN KEY (receiver_id) REFERENCES wallet.wallets (user_id) ON DELETE RESTRICT;
ALTER TABLE wallet.transactions ADD CONSTRAINT transactions_sender_id_fkey
  FOREIGN KEY (sender_id) REFERENCES wallet.wallets (user_id) ON DELETE RESTRICT;
