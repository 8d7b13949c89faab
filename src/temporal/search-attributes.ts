import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes of receipt workflows: the project's contract with the Temporal server (the dev
 * server registers them at start; a production cluster must have them created by an operator).
 */
export const TransactionIdKey = defineSearchAttributeKey('TransactionId', SearchAttributeType.INT);
export const SenderIdKey = defineSearchAttributeKey('SenderId', SearchAttributeType.INT);
export const ReceiverIdKey = defineSearchAttributeKey('ReceiverId', SearchAttributeType.INT);

/** Every transaction whose receipt a workflow prints: one id for a single receipt's workflow, up to 100 for a
 *  batch's. The one search that finds the workflow behind any receipt: `TransactionIds = '42'`. */
export const TransactionIdsKey = defineSearchAttributeKey('TransactionIds', SearchAttributeType.KEYWORD_LIST);

export const RECEIPT_SEARCH_ATTRIBUTES = [
  TransactionIdKey,
  SenderIdKey,
  ReceiverIdKey,
  TransactionIdsKey,
] as const;

/** The operator's search for the workflow behind the receipt of a transaction, single or batch. */
export function receiptSearchQuery(transactionId: number): string {
  return `TransactionIds = '${Math.trunc(transactionId)}'`;
}

// The CLI spells kinds as Text, Keyword, Int, Double, Bool, Datetime, KeywordList.
export const CLI_KIND: Record<SearchAttributeType, string> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/** `--search-attribute NAME=Kind` flags for `temporal server start-dev` / `operator search-attribute create`. */
export function searchAttributeCliArgs(): string[] {
  return RECEIPT_SEARCH_ATTRIBUTES.flatMap((key) => [
    '--search-attribute',
    `${key.name}=${CLI_KIND[key.type]}`,
  ]);
}
