// The project's own SQLSTATEs (class W1), raised by db/procedures. The README's table lists the same.
export const SqlState = {
  insufficientFunds: 'W1001',
  senderNotFound: 'W1002',
  receiverNotFound: 'W1003',
  sameWallet: 'W1004',
  invalidAmount: 'W1005',
  idempotencyKeyReused: 'W1006',
  invalidIdempotencyKey: 'W1007',
  usernameTaken: 'W1008',
  invalidUsername: 'W1009',
  appendOnly: 'W1010',
  idempotencyKeyInUse: 'W1011',
  userNotFound: 'W1012',
  transactionNotFound: 'W1013',
  balanceOverLimit: 'W1014',
  emptyReceipt: 'W1015',
  // Holds take W1020-W1025, apart from the numbers other features are adding at the same time.
  invalidHoldExpiry: 'W1020',
  holdNotFound: 'W1021',
  holdClosed: 'W1022',
  captureExceedsHold: 'W1023',
  notHoldReceiver: 'W1024',
  holdImmutable: 'W1025',
  // Batches take W1030-W1032.
  batchEmpty: 'W1030',
  batchLengthMismatch: 'W1031',
  batchTooLarge: 'W1032',
  // Refunds take W1040-W1043 (db/procedures/refund.sql).
  refundTransactionNotFound: 'W1040',
  notRefundable: 'W1041',
  notOriginalReceiver: 'W1042',
  refundExceedsOriginal: 'W1043',
  // Statement PDFs take W1050 (db/procedures/statements.sql).
  statementPeriodOpen: 'W1050',
} as const;

export type SqlStateCode = (typeof SqlState)[keyof typeof SqlState];

/** The SQLSTATE of a pg error, if it is one. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 ? code : undefined;
}
