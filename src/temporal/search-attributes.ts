import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes of receipt workflows: the project's contract with the Temporal server (the dev
 * server registers them at start; a production cluster must have them created by an operator).
 */
export const TransactionIdKey = defineSearchAttributeKey('TransactionId', SearchAttributeType.INT);
export const SenderIdKey = defineSearchAttributeKey('SenderId', SearchAttributeType.INT);
export const ReceiverIdKey = defineSearchAttributeKey('ReceiverId', SearchAttributeType.INT);

export const RECEIPT_SEARCH_ATTRIBUTES = [TransactionIdKey, SenderIdKey, ReceiverIdKey] as const;

// The CLI spells kinds as Text, Keyword, Int, Double, Bool, Datetime, KeywordList.
const CLI_KIND: Record<SearchAttributeType, string> = {
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
