-- What each object of schema wallet is for, one line each, read in psql by `\df+ wallet.*`, `\d+ wallet.<table>`,
-- `\dp` and `\du+`: the words of docs/dba.md. Canonical and re-applied whole: by migration 0016, then after
-- db/grants.sql by every generated procedures migration (scripts/procedures-migration.ts), because a function
-- that is dropped and created again loses its comment (CREATE OR REPLACE keeps it).
-- tests/db/comments.test.ts fails for anything the roles wallet_app or wallet_worker can reach (schema, table,
-- view, column, function, the roles themselves) that has no comment, and for a comment here that the
-- migrations did not install. To add one: a line in the section of its kind, then a migration that applies
-- this file (any procedures migration does).

COMMENT ON SCHEMA wallet IS 'The ledger: users, wallets, the append-only transaction log, holds and the receipt outbox. Change money only through its functions.';

-- ==== domains: single-column rules, checked from the type cache (migration 0017) ====
COMMENT ON DOMAIN wallet.nonnegative_money IS 'Money that is never negative: a wallet''s balance and held amount.';
COMMENT ON DOMAIN wallet.positive_money IS 'Money moved or reserved: more than zero, two decimals.';
COMMENT ON DOMAIN wallet.transaction_kind IS 'transfer, deposit, capture or refund.';
COMMENT ON DOMAIN wallet.receipt_status IS 'pending (in the outbox) or rendered (its PDF stored).';
COMMENT ON DOMAIN wallet.hold_status IS 'open, captured, released or expired.';

-- ==== roles (cluster-wide; a migrator without the right to comment on them skips with a notice) ====
DO $$
BEGIN
  COMMENT ON ROLE wallet_app IS 'The API (and npm run cli): calls the money, holds, history and user functions; reads wallets, transactions, receipts, holds and user names, never password hashes.';
  COMMENT ON ROLE wallet_worker IS 'The receipt worker and its dispatcher: claims, starts and stores receipts through their functions; no table, and no function that moves money.';
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'roles wallet_app and wallet_worker keep their comments: this migrator may not comment on them';
END
$$;

-- ==== tables ====
COMMENT ON TABLE wallet.users IS 'One row per user; usernames are unique regardless of case. Rows with history cannot be deleted.';
COMMENT ON TABLE wallet.wallets IS 'One wallet per user: its balance and what its open holds reserve. Written only by the ledger functions.';
COMMENT ON TABLE wallet.transactions IS 'The append-only log of every money movement (transfer, deposit, capture, refund): UPDATE, DELETE and TRUNCATE raise W1010.';
COMMENT ON TABLE wallet.receipts IS 'The receipt outbox: one row per transaction, written in its commit; pending until the worker stores its PDF.';
COMMENT ON TABLE wallet.holds IS 'Money reserved by a sender for one receiver until it is captured, released or expires; terms never change (W1025).';
COMMENT ON TABLE wallet.entries IS 'Each wallet''s hash chain: one entry per movement that touches it, numbered 1, 2, 3 with no gap; append-only (W1010). docs/books.md gives the hash.';
COMMENT ON TABLE wallet.statements IS 'Rendered statement PDFs of closed periods, one per wallet and period; never updated or deleted (W1010).';

-- ==== columns ====
COMMENT ON COLUMN wallet.users.id IS 'The user id, which is also the wallet id (wallets.user_id).';
COMMENT ON COLUMN wallet.users.username IS 'Login name: 1 to 150 characters, no control characters or outer spaces, unique regardless of case.';
COMMENT ON COLUMN wallet.users.password_hash IS 'scrypt hash of the password; NULL: can receive money, cannot log in over HTTP. Readable by the owner only.';
COMMENT ON COLUMN wallet.users.created_at IS 'When the user was created.';

COMMENT ON COLUMN wallet.wallets.user_id IS 'The owner (users.id); a wallet has exactly one user and the same id.';
COMMENT ON COLUMN wallet.wallets.balance IS 'The money in the wallet, open holds included; never negative.';
COMMENT ON COLUMN wallet.wallets.held IS 'Total of the open holds this wallet placed as sender; available = balance - held, never negative.';
COMMENT ON COLUMN wallet.wallets.holds_expire_at IS 'Earliest expiry of its open holds (NULL: none): a transfer falling short expires due holds only after it.';
COMMENT ON COLUMN wallet.wallets.updated_at IS 'When the balance or the holds last changed.';

COMMENT ON COLUMN wallet.transactions.id IS 'Transaction id: the receipt''s workflow is receipt-<id>, its search attribute TransactionId.';
COMMENT ON COLUMN wallet.transactions.kind IS 'transfer, deposit, capture (a captured hold) or refund (of refund_of).';
COMMENT ON COLUMN wallet.transactions.sender_id IS 'Paying wallet; NULL for a deposit.';
COMMENT ON COLUMN wallet.transactions.receiver_id IS 'Credited wallet.';
COMMENT ON COLUMN wallet.transactions.amount IS 'Amount moved: greater than zero, two decimals, at most 1000000000000.00.';
COMMENT ON COLUMN wallet.transactions.sender_balance_after IS 'The sender''s balance right after this movement; NULL for a deposit.';
COMMENT ON COLUMN wallet.transactions.receiver_balance_after IS 'The receiver''s balance right after this movement.';
COMMENT ON COLUMN wallet.transactions.created_at IS 'Commit-time clock of the movement (now() of its transaction).';
COMMENT ON COLUMN wallet.transactions.idempotency_key IS 'The caller''s Idempotency-Key, unique per initiator; NULL when none was sent.';
COMMENT ON COLUMN wallet.transactions.request_fingerprint IS 'SHA-256 of the request''s arguments: tells a replay (same key, same request) from a reused key (W1006).';
COMMENT ON COLUMN wallet.transactions.initiator_id IS 'Who the key belongs to: the sender, or the receiver of a deposit (generated).';

COMMENT ON COLUMN wallet.receipts.transaction_id IS 'The transaction this receipt is for (one receipt per transaction).';
COMMENT ON COLUMN wallet.receipts.status IS 'pending until the PDF is stored, then rendered.';
COMMENT ON COLUMN wallet.receipts.workflow_started_at IS 'When its Temporal workflow was started; NULL: the dispatcher starts it at its next poll.';
COMMENT ON COLUMN wallet.receipts.pdf IS 'The rendered one-page A4 PDF; stored once, never replaced.';
COMMENT ON COLUMN wallet.receipts.pdf_size IS 'Size of the PDF in bytes.';
COMMENT ON COLUMN wallet.receipts.pdf_sha256 IS 'SHA-256 of the PDF, hex.';
COMMENT ON COLUMN wallet.receipts.rendered_at IS 'When the PDF was stored.';
COMMENT ON COLUMN wallet.receipts.claimed_at IS 'Start of the dispatcher''s (or the API''s) lease on this receipt; a lease older than 15 s is free again.';
COMMENT ON COLUMN wallet.receipts.claimed_by IS 'Who holds the lease: a dispatcher''s name, or api.';
COMMENT ON COLUMN wallet.receipts.rendered_by IS 'Run id of the workflow execution whose print was stored.';

COMMENT ON COLUMN wallet.holds.id IS 'Hold id, as the API and wallet.capture / wallet.release take it.';
COMMENT ON COLUMN wallet.holds.sender_id IS 'Wallet whose money is reserved.';
COMMENT ON COLUMN wallet.holds.receiver_id IS 'Wallet that may capture or release the hold.';
COMMENT ON COLUMN wallet.holds.amount IS 'Amount reserved.';
COMMENT ON COLUMN wallet.holds.created_at IS 'When the hold was placed.';
COMMENT ON COLUMN wallet.holds.expires_at IS 'From this moment the money is available to the sender again and the hold cannot be captured.';
COMMENT ON COLUMN wallet.holds.sender_available_after IS 'The sender''s available balance right after the hold was placed (what a replay returns).';
COMMENT ON COLUMN wallet.holds.idempotency_key IS 'The sender''s Idempotency-Key for placing the hold; NULL when none was sent.';
COMMENT ON COLUMN wallet.holds.request_fingerprint IS 'SHA-256 of the hold request''s arguments, to tell a replay from a reused key.';
COMMENT ON COLUMN wallet.holds.status IS 'open, captured, released or expired; changes once. An open hold past expires_at reads as expired.';
COMMENT ON COLUMN wallet.holds.closed_at IS 'When the hold was captured or released, or its expires_at once it is marked expired; NULL while open.';
COMMENT ON COLUMN wallet.holds.captured_amount IS 'What the capture moved (the rest was released); NULL unless captured.';
COMMENT ON COLUMN wallet.holds.capture_transaction_id IS 'The capture transaction (transactions.id, kind capture); NULL unless captured.';
COMMENT ON COLUMN wallet.holds.capture_idempotency_key IS 'The receiver''s Idempotency-Key for the capture; NULL when none was sent.';
COMMENT ON COLUMN wallet.holds.capture_fingerprint IS 'SHA-256 of the capture request''s arguments, to tell a replay from a reused key.';
COMMENT ON COLUMN wallet.entries.user_id IS 'The wallet whose chain this entry is on.';
COMMENT ON COLUMN wallet.entries.entry IS 'The entry''s number in its wallet''s chain: 1, 2, 3 with no gap.';
COMMENT ON COLUMN wallet.entries.transaction_id IS 'The transaction that made this entry (a transfer makes one on each wallet).';
COMMENT ON COLUMN wallet.entries.kind IS 'The transaction''s kind: transfer, deposit, capture or refund.';
COMMENT ON COLUMN wallet.entries.counterparty_id IS 'The other wallet of the movement; NULL for a deposit.';
COMMENT ON COLUMN wallet.entries.amount IS 'Signed: positive credits this wallet, negative debits it.';
COMMENT ON COLUMN wallet.entries.balance_after IS 'This wallet''s balance right after the entry: what balance_at and statements read.';
COMMENT ON COLUMN wallet.entries.created_at IS 'The wallet''s own clock: never earlier than the previous entry''s, so time follows the entry number.';
COMMENT ON COLUMN wallet.entries.hash IS 'sha256(previous hash || canonical bytes of this entry); wallet.verify recomputes it.';
COMMENT ON COLUMN wallet.wallets.entries IS 'How many entries the wallet''s chain has: the number of its head.';
COMMENT ON COLUMN wallet.wallets.head_hash IS 'The hash of the chain''s last entry; NULL while the chain is empty (it starts from wallet.genesis).';
COMMENT ON COLUMN wallet.wallets.head_at IS 'The time of the chain''s last entry: the next entry is never earlier.';
COMMENT ON COLUMN wallet.transactions.refund_of IS 'For a refund: the transfer or capture it gives (part of) back; NULL for every other kind.';
COMMENT ON COLUMN wallet.receipts.batch_id IS 'For a batch transfer''s receipts: the first transaction id of its group of up to 100, printed by workflow receipt-batch-<batch_id>.';

-- ==== functions the API calls (wallet_app) ====
COMMENT ON FUNCTION wallet.create_user IS 'create_user(username, password_hash or NULL): a user and a wallet at 0.00; returns the user id. W1008 taken, W1009 invalid name.';
COMMENT ON FUNCTION wallet.set_password IS 'set_password(username, password_hash): replaces the hash (npm run cli -- user password makes one); returns the user id. W1012 unknown user.';
COMMENT ON FUNCTION wallet.user_credentials IS 'user_credentials(username): id, name and password hash, for the API''s login check only.';
COMMENT ON FUNCTION wallet.deposit IS 'deposit(user_id, amount [, key]): credits a wallet (a testing helper); returns transaction_id, balance, created_at, replayed.';
COMMENT ON FUNCTION wallet.transfer IS 'transfer(sender, receiver, amount [, key]): locks both wallets in id order, checks the available balance, moves the money, writes the transaction and its pending receipt; one row.';
COMMENT ON FUNCTION wallet.transfer_batch IS 'transfer_batch(sender, receivers[], amounts[] [, key]): 1 to 10,000 transfers in one commit, all or nothing; one row per item; a failing item is named in the DETAIL.';
COMMENT ON FUNCTION wallet.balance IS 'balance(user_id): user id, username, balance and available (balance minus open, unexpired holds).';
COMMENT ON FUNCTION wallet.history IS 'history(user_id, limit, before): the user''s transactions, sent and received, newest first, keyset-paginated by id.';
COMMENT ON FUNCTION wallet.transaction_for IS 'transaction_for(user_id, id): one transaction the user is party to, or no row.';
COMMENT ON FUNCTION wallet.receipt_for IS 'receipt_for(user_id, id): status and PDF of the receipt of a transaction the user is party to, or no row.';
COMMENT ON FUNCTION wallet.hold IS 'hold(sender, receiver, amount [, expires_in DEFAULT 7 days [, key]]): reserves part of the available balance for the receiver (1 second to 90 days).';
COMMENT ON FUNCTION wallet.capture IS 'capture(hold_id [, amount [, key [, acting_user]]]): moves all or part of an open hold to its receiver as a capture transaction; the rest is released.';
COMMENT ON FUNCTION wallet.release IS 'release(hold_id [, acting_user]): closes an open hold and moves nothing; only the receiver (or a DBA with NULL) may.';
COMMENT ON FUNCTION wallet.holds_for IS 'holds_for(user_id, status, limit, before): the holds the user sent or receives, newest first, status as of now.';
COMMENT ON FUNCTION wallet.hold_for IS 'hold_for(user_id, hold_id): one hold the user is party to, status as of now, or no row.';
COMMENT ON FUNCTION wallet.refund IS 'The original receiver gives all or part of a transfer or capture back to its sender; refunds never sum above it (W1040-W1043, W1001).';
COMMENT ON FUNCTION wallet.balance_at IS 'A wallet''s balance right after its last entry at or before an instant (0.00 before the first; holds do not change it).';
COMMENT ON FUNCTION wallet.chain_head IS 'A wallet''s chain head: entry number, hash (hex) and balance, the receipt a user keeps for verify_head.';
COMMENT ON FUNCTION wallet.statement IS 'A wallet''s entries in [from, to), oldest first, with direction, counterparty, balance after and hash; keyset pages by entry.';
COMMENT ON FUNCTION wallet.statement_summary IS 'Opening and closing balance, total in and out, entry count and closing head of a wallet over [from, to): opening + in - out = closing.';
COMMENT ON FUNCTION wallet.statement_pdf_for IS 'The stored statement PDF of a wallet and closed period, if rendered; W1050 for a period not over yet.';

-- ==== functions of the receipt pipeline (wallet_worker; the API also marks and reads the backlog) ====
COMMENT ON FUNCTION wallet.receipt_backlog IS 'receipt_backlog(): receipts not yet rendered and those without a workflow yet, each exact up to receipt_backlog_count_cap() (10,000) and the cap with its _capped flag true above it, and the oldest pending one''s time, exact (GET /ready, the backlog gauges).';
COMMENT ON FUNCTION wallet.receipt_backlog_count_cap IS 'receipt_backlog_count_cap(): where receipt_backlog()''s counts stop (10,000), so that its cost does not grow with the backlog.';
COMMENT ON FUNCTION wallet.mark_receipts_started IS 'mark_receipts_started(ids[]): records that the receipts'' workflows were started and ends their leases; returns how many.';
COMMENT ON FUNCTION wallet.claim_receipts IS 'claim_receipts(claimer, limit, lease, restart_after): leases pending receipts without a workflow (SKIP LOCKED, committed at once) for the dispatcher.';
COMMENT ON FUNCTION wallet.release_receipts IS 'release_receipts(claimer, ids[]): gives back leases whose workflow start failed, for the next poll.';
COMMENT ON FUNCTION wallet.receipts_in_flight IS 'receipts_in_flight(lease, restart_after): receipts started and not yet stored, for the RECEIPT_MAX_IN_FLIGHT window.';
COMMENT ON FUNCTION wallet.receipt_document IS 'receipt_document(transaction_id): what a receipt prints (parties, amount, time, fingerprint). W1013 unknown transaction.';
COMMENT ON FUNCTION wallet.receipt_documents IS 'receipt_documents(ids[]): receipt_document for many transactions in one statement (a coalesced print).';
COMMENT ON FUNCTION wallet.store_receipt_pdf IS 'store_receipt_pdf(transaction_id, pdf): stores the PDF once (a stored one is never replaced); stored_now says whether this call did. W1015 empty.';
COMMENT ON FUNCTION wallet.store_receipt_pdfs IS 'store_receipt_pdfs(ids[], pdfs[], run_ids[]): store_receipt_pdf for a whole print in one statement, recording the workflow run.';
COMMENT ON FUNCTION wallet.receipt_batch_members IS 'The transaction ids of each batch group''s receipts, for the dispatcher''s one start per group.';
COMMENT ON FUNCTION wallet.pending_batch_receipts IS 'The receipts of one batch group still pending, for a batch workflow''s (retried) print.';
COMMENT ON FUNCTION wallet.close_statement_period IS 'Waits for the wallet''s row lock so that no movement dated before the period''s end is still uncommitted.';
COMMENT ON FUNCTION wallet.store_statement_pdf IS 'Stores a rendered statement once; a later store of the same statement keeps the first PDF.';
COMMENT ON FUNCTION wallet.statement_wallets IS 'The wallets with entries in a period and no stored statement for it, a page at a time, for the monthly run.';

-- ==== owner only: DBA tools ====
COMMENT ON FUNCTION wallet.audit IS 'audit(): one row per disagreement in the books (balances, totals, holds, receipts); no row when all is well.';
COMMENT ON FUNCTION wallet.sweep_expired_holds IS 'sweep_expired_holds(wallets DEFAULT 100): bookkeeping only, marks due holds expired; nothing depends on it running.';
COMMENT ON FUNCTION wallet.verify IS 'Rows only where a hash chain breaks: altered entry, gap or duplicate, head or balance mismatch; nothing when the books are intact.';
COMMENT ON FUNCTION wallet.verify_head IS 'True only if the wallet''s chain recomputed from its genesis up to an entry ends on the kept hash.';

-- ==== owner only: internal helpers, called inside the functions above ====
COMMENT ON FUNCTION wallet.assert_valid_amount IS 'Internal: raises W1005 for a NULL, non-positive, over-limit or unrounded amount.';
COMMENT ON FUNCTION wallet.assert_valid_idempotency_key IS 'Internal: raises W1007 unless the key is 1 to 255 printable ASCII characters.';
COMMENT ON FUNCTION wallet.request_fingerprint IS 'Internal: SHA-256 of a request''s arguments, stored beside its idempotency key.';
COMMENT ON FUNCTION wallet.claim_idempotency_key IS 'Internal: serialises callers sharing a key (W1011 at once for the second) and returns the transaction an earlier call made with it.';
COMMENT ON FUNCTION wallet.max_balance IS 'Internal: 999999999999999999.99, the largest balance numeric(20,2) holds (W1014 beyond).';
COMMENT ON FUNCTION wallet.check_available IS 'Internal: raises W1001 with wallet, balance, held and available when the available balance is below the amount.';
COMMENT ON FUNCTION wallet.expire_due_holds IS 'Internal: marks a locked wallet''s due holds expired and recomputes held and holds_expire_at.';
COMMENT ON FUNCTION wallet.effective_hold_status IS 'Internal: a hold''s status as of now (open past expires_at reads expired).';
COMMENT ON FUNCTION wallet.claim_hold_key IS 'Internal: serialises callers sharing a hold or capture key (W1011 for the second) and returns the hold an earlier call made.';
COMMENT ON FUNCTION wallet.open_hold IS 'Internal: re-reads the hold under its sender''s wallet lock; W1022 unless it is still open and unexpired.';
COMMENT ON FUNCTION wallet.hold_to_settle IS 'Internal: the hold as the acting user may settle it: W1021 missing or not a party, W1024 the sender.';
COMMENT ON FUNCTION wallet.unhold IS 'Internal: takes a closing hold''s amount off its sender''s held total.';
COMMENT ON FUNCTION wallet.reject_transaction_change IS 'Trigger: transactions are append-only (W1010 on UPDATE, DELETE, TRUNCATE).';
COMMENT ON FUNCTION wallet.refuse_deleting_history IS 'Trigger: no user or wallet with history is deleted or truncated (23001).';
COMMENT ON FUNCTION wallet.guard_hold_change IS 'Trigger: a hold''s terms never change and it closes exactly once; no DELETE or TRUNCATE (W1025).';
COMMENT ON FUNCTION wallet.genesis IS 'Internal: the fixed hash a wallet''s chain starts from (docs/books.md).';
COMMENT ON FUNCTION wallet.entries_before IS 'Internal: how many of a wallet''s entries are dated before an instant, by a binary search over the entry numbers (entry times never go backwards).';
COMMENT ON FUNCTION wallet.entry_hash IS 'Internal: sha256 of the previous hash and an entry''s canonical bytes (docs/books.md).';
COMMENT ON FUNCTION wallet.chain_transactions IS 'Internal: appends the entries of new transactions to their wallets'' chains, under the wallet locks already held.';
