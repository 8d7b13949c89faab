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
