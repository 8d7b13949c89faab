-- Up Migration
-- The dispatcher's claim becomes a lease committed at once (conventions habit 11): a claimed receipt carries
-- who took it and when; the workflow starts happen outside any transaction; a lease older than the claimer's
-- lease time is free again (its claimer died or hung).
-- A caller that starts the workflow itself (the API, wallet.caller_starts_receipts = on) holds the lease from
-- the insert on, so a busy dispatcher poll does not start the same receipt a second time a few ms later;
-- if that caller dies before its start, the lease runs out and a dispatcher takes the receipt over.
ALTER TABLE wallet.receipts
  ADD COLUMN claimed_at timestamptz
    DEFAULT CASE WHEN current_setting('wallet.caller_starts_receipts', true) = 'on' THEN now() END,
  ADD COLUMN claimed_by text
    DEFAULT CASE WHEN current_setting('wallet.caller_starts_receipts', true) = 'on' THEN 'api' END;

-- Replaced by wallet.claim_receipts (a lease, not row locks held across the starts).
DROP FUNCTION wallet.claim_unstarted_receipts(integer, interval);

-- Down Migration
ALTER TABLE wallet.receipts DROP COLUMN claimed_at, DROP COLUMN claimed_by;
