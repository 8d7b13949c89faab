-- Statement PDFs (table in migration 0014): what the API serves, what the statement workflow stores, and how
-- it knows a period is closed. The statement's content comes from wallet.statement and
-- wallet.statement_summary; these functions only decide when it is final and keep the printed PDF.

-- A stored statement, for its wallet's owner (the API). No row: not rendered yet.
CREATE OR REPLACE FUNCTION wallet.statement_pdf_for(p_user_id bigint, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (pdf bytea, pdf_size integer, pdf_sha256 text, closing_entry bigint, closing_hash text,
               rendered_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT s.pdf, s.pdf_size, s.pdf_sha256, s.closing_entry, s.closing_hash, s.rendered_at
    FROM wallet.statements s
   WHERE s.user_id = p_user_id AND s.period_from = p_from AND s.period_to = p_to
$$;

-- Whether [.., p_to) of this wallet is closed, whose wallet it is (the name the statement prints), and whether a
-- statement is already stored for [p_from, p_to) (stored_size and stored_sha256 not null: no need to print again).
-- closed is true once every entry dated before p_to is committed: a movement takes the wallet's row lock
-- before it dates its entry and keeps it until it commits, so waiting here for that lock (FOR SHARE, released
-- at once by the caller's autocommit) waits out every movement in flight, and any later one dates its entry
-- after this clock reading. A statement read after a true is final: commit lag closed exactly, without a grace
-- period. No wallet: W1012.
CREATE OR REPLACE FUNCTION wallet.close_statement_period(p_user_id bigint, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (username text, closed boolean, stored_size integer, stored_sha256 text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
BEGIN
  PERFORM 1 FROM wallet.wallets w WHERE w.user_id = p_user_id FOR SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user not found' USING ERRCODE = 'W1012', DETAIL = format('no wallet %s', p_user_id);
  END IF;
  RETURN QUERY
    SELECT u.username, clock_timestamp() >= p_to, s.pdf_size, s.pdf_sha256
      FROM wallet.users u
      LEFT JOIN wallet.statements s ON s.user_id = u.id AND s.period_from = p_from AND s.period_to = p_to
     WHERE u.id = p_user_id;
END
$$;

-- Stores a statement's PDF once: the first PDF stored for a wallet and period wins, a later call (a retried
-- activity, a second workflow for the same period) gets the stored one's size and hash back. stored_now is
-- true when this call, or an earlier call by the same renderer (workflow run), stored it. An open period is
-- refused (W1050): only a closed period's statement may be kept for good.
CREATE OR REPLACE FUNCTION wallet.store_statement_pdf(p_user_id bigint, p_from timestamptz, p_to timestamptz,
                                                      p_pdf bytea, p_closing_entry bigint, p_closing_hash text,
                                                      p_rendered_by text DEFAULT NULL)
RETURNS TABLE (pdf_size integer, pdf_sha256 text, rendered_at timestamptz, stored_now boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  inserted boolean;
BEGIN
  IF p_to > now() THEN
    RAISE EXCEPTION 'statement period is still open' USING ERRCODE = 'W1050',
      DETAIL = format('wallet %s: the period ends %s, after now (%s)', p_user_id, p_to, now());
  END IF;
  IF p_pdf IS NULL OR length(p_pdf) = 0 THEN
    RAISE EXCEPTION 'a statement needs a PDF' USING ERRCODE = 'W1015',
      DETAIL = format('wallet %s, period %s to %s: empty PDF', p_user_id, p_from, p_to);
  END IF;
  INSERT INTO wallet.statements AS s (user_id, period_from, period_to, pdf, pdf_size, pdf_sha256, closing_entry,
                                      closing_hash, rendered_by)
  VALUES (p_user_id, p_from, p_to, p_pdf, length(p_pdf), encode(sha256(p_pdf), 'hex'), p_closing_entry,
          p_closing_hash, p_rendered_by)
  ON CONFLICT (user_id, period_from, period_to) DO NOTHING;
  inserted := FOUND;
  RETURN QUERY
    SELECT s.pdf_size, s.pdf_sha256, s.rendered_at,
           inserted OR (p_rendered_by IS NOT NULL AND s.rendered_by = p_rendered_by)
      FROM wallet.statements s
     WHERE s.user_id = p_user_id AND s.period_from = p_from AND s.period_to = p_to;
END
$$;

-- The monthly run's page of wallets: those with entries in [p_from, p_to) and no statement stored for it yet,
-- in id order after p_after_user (keyset paging: a run that continues as new resumes where it was).
CREATE OR REPLACE FUNCTION wallet.statement_wallets(p_from timestamptz, p_to timestamptz, p_after_user bigint,
                                                    p_limit integer)
RETURNS TABLE (user_id bigint)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT w.user_id FROM wallet.wallets w
   WHERE w.user_id > p_after_user
     -- A wallet whose last entry is older than the period has none in it: no search.
     AND (SELECT e.created_at FROM wallet.entries e WHERE e.user_id = w.user_id AND e.entry = w.entries) >= p_from
     AND wallet.entries_before(w.user_id, p_to) > wallet.entries_before(w.user_id, p_from)
     AND NOT EXISTS (SELECT 1 FROM wallet.statements s
                      WHERE s.user_id = w.user_id AND s.period_from = p_from AND s.period_to = p_to)
   ORDER BY w.user_id
   LIMIT p_limit
$$;
