-- Up Migration
-- The receipt worker gets a role of its own (wallet_worker), and each role may call only what its process
-- calls.
DO $$
BEGIN
  CREATE ROLE wallet_worker NOLOGIN;
EXCEPTION WHEN duplicate_object THEN
  NULL; -- roles are cluster-wide: a second database in the same cluster finds it already there
END
$$;

-- Who may call what is db/grants.sql, applied by the procedures migration that follows this one (it names
-- functions that only exist once that migration has run). Here: start from nothing, so that no function is
-- callable by PUBLIC or either role until granted there.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA wallet FROM PUBLIC, wallet_app, wallet_worker;
-- Functions made later get no rights by themselves either (PostgreSQL's default is EXECUTE for PUBLIC).
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA wallet REVOKE EXECUTE ON FUNCTIONS FROM wallet_app;
GRANT USAGE ON SCHEMA wallet TO wallet_app, wallet_worker;

-- Down Migration
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA wallet TO wallet_app;
REVOKE EXECUTE ON FUNCTION wallet.reject_transaction_change() FROM wallet_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA wallet GRANT EXECUTE ON FUNCTIONS TO wallet_app;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA wallet FROM wallet_worker;
REVOKE USAGE ON SCHEMA wallet FROM wallet_worker;
