// Failure types shared by activities and workflow code. Dependency-free on purpose: the workflow bundle
// imports it, and must not pull in activity code (pg, Puppeteer).

/** A receipt for a transaction that does not exist: retrying cannot help. */
export const TRANSACTION_NOT_FOUND = 'TransactionNotFound';
