// What the receipt workflow takes: owned by the workflow side, imported by those who start it
// (src/temporal/start-receipt.ts). Deterministic code only here: types, no imports from Node or the SDK.
export interface ReceiptWorkflowInput {
  transactionId: number;
  /** How the workflow runs, fixed by whoever starts it and kept in the history's first event, so replay takes
   *  the same branch. 'one-task' (every start since 2026-11-27): print in one workflow task. Absent in older
   *  histories, which tell their shape by a patch marker (see receipt.ts). */
  shape?: 'one-task';
}

/** What the batch receipt workflow takes: the batch (receipt-batch-<batchId>). Its receipts are those whose
 *  batch_id it is, read from the database by the activity, so the input stays small. */
export interface ReceiptBatchWorkflowInput {
  batchId: number;
}

/** A receipt of the batch that could not be printed with the others, handed to a workflow of its own. */
export interface FallenOutReceipt {
  transactionId: number;
  senderId: number | null;
  receiverId: number;
  amount: string;
}

export interface ReceiptBatchResult {
  batchId: number;
  /** Receipts this run printed and stored. */
  stored: number;
  /** Receipts already stored when this run looked (by an earlier attempt or their own workflow). */
  alreadyStored: number;
  /** Receipts handed to their own receipt-<id> workflow. */
  fellOut: number[];
}
