-- Up Migration
-- Entries are found by time with a binary search over their numbers (wallet.entries_before, migration 0019):
-- per wallet, entry times never go backwards with the number. The index on (user_id, created_at, entry) was
-- written twice by every transfer, one side each, for lookups that now need only the primary key:
-- bench/sql measured it at ~28 us of server CPU per transfer (same run; bench/README.md, "The books").
DROP INDEX wallet.entries_by_time;

-- Down Migration
CREATE INDEX entries_by_time ON wallet.entries (user_id, created_at, entry);
