-- Up Migration
-- Statement PDFs: one per wallet and period [period_from, period_to), rendered by the statement workflow
-- (src/workflows/statement.ts) and served by GET /api/wallet/statement.pdf. Only closed periods are stored
-- (wallet.store_statement_pdf refuses an open one), and a stored statement is never changed or deleted: a
-- closed period's entries never change, so neither does its statement.
CREATE TABLE wallet.statements (
  user_id       bigint NOT NULL REFERENCES wallet.wallets (user_id) ON DELETE RESTRICT,
  period_from   timestamptz NOT NULL,
  period_to     timestamptz NOT NULL,
  pdf           bytea NOT NULL CHECK (length(pdf) > 0),
  pdf_size      integer NOT NULL,
  pdf_sha256    text NOT NULL,
  -- The chain head the statement ends on (wallet.statement_summary's closing_entry and closing_hash), kept
  -- so that a stored PDF can be checked against wallet.verify_head without reading the PDF.
  closing_entry bigint NOT NULL,
  closing_hash  text,
  rendered_at   timestamptz NOT NULL DEFAULT now(),
  -- The workflow run that printed it: a retried activity of the same run knows the row is its own.
  rendered_by   text,
  PRIMARY KEY (user_id, period_from, period_to),
  CONSTRAINT statement_period_forward CHECK (period_from < period_to)
);

CREATE FUNCTION wallet.reject_statement_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'statements are immutable'
    USING ERRCODE = 'W1010',
          DETAIL = format('%s on wallet.statements is not allowed: a closed period''s statement never changes',
                          TG_OP);
END
$$;
CREATE TRIGGER statements_no_update_or_delete BEFORE UPDATE OR DELETE ON wallet.statements
  FOR EACH ROW EXECUTE FUNCTION wallet.reject_statement_change();
CREATE TRIGGER statements_no_truncate BEFORE TRUNCATE ON wallet.statements
  FOR EACH STATEMENT EXECUTE FUNCTION wallet.reject_statement_change();
REVOKE EXECUTE ON FUNCTION wallet.reject_statement_change() FROM PUBLIC, wallet_app, wallet_worker;

-- Down Migration
DROP TABLE wallet.statements;
DROP FUNCTION wallet.reject_statement_change();
