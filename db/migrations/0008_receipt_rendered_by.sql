-- Up Migration
-- Which workflow execution's print is the stored PDF (its run id). A retry within the same execution (a
-- workflow task that timed out after its local print stored, a fallback after a print that finished late, a
-- worker killed between storing and completing) then still reports storedNow: true, and a second execution
-- for the same transaction reports false: "stored once" can be checked per execution.
ALTER TABLE wallet.receipts ADD COLUMN rendered_by text;

-- Down Migration
ALTER TABLE wallet.receipts DROP COLUMN rendered_by;
