// Makes sure the namespace has the receipt search attributes, creating missing ones through the operator
// service. Without them every receipt workflow start fails with INVALID_ARGUMENT. Safe to run from many
// processes at once: a create that lost the race ("already exists") is checked again, not reported.
import { type Client, isGrpcServiceError } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto'; // CommonJS: Node's ESM loader sees only its default export
import { CLI_KIND, RECEIPT_SEARCH_ATTRIBUTES } from './search-attributes.js';

const Indexed = proto.temporal.api.enums.v1.IndexedValueType;
type IndexedValueType = proto.temporal.api.enums.v1.IndexedValueType;

/** The part of Temporal's operator service the setup uses (a Connection's operatorService has it). */
export interface SearchAttributeAdmin {
  listSearchAttributes(request: { namespace: string }): Promise<{
    customAttributes?: Record<string, IndexedValueType> | null;
  }>;
  addSearchAttributes(request: {
    namespace: string;
    searchAttributes: Record<string, IndexedValueType>;
  }): Promise<unknown>;
}

const INDEXED: Record<SearchAttributeType, IndexedValueType> = {
  [SearchAttributeType.TEXT]: Indexed.INDEXED_VALUE_TYPE_TEXT,
  [SearchAttributeType.KEYWORD]: Indexed.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: Indexed.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.DOUBLE]: Indexed.INDEXED_VALUE_TYPE_DOUBLE,
  [SearchAttributeType.BOOL]: Indexed.INDEXED_VALUE_TYPE_BOOL,
  [SearchAttributeType.DATETIME]: Indexed.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.KEYWORD_LIST]: Indexed.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

// gRPC status codes (the numbers are the protocol's).
const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;
const NOT_FOUND = 5;
const UNAUTHENTICATED = 16;

/** The server will not let us set the namespace up: an operator must. The message names what to run. */
export class SearchAttributeSetupError extends Error {}

/** What an operator runs to create the attributes by hand: one command per type (the CLI takes one --type). */
export function operatorCommand(namespace: string): string {
  const byKind = new Map<string, string[]>();
  for (const key of RECEIPT_SEARCH_ATTRIBUTES) {
    const kind = CLI_KIND[key.type];
    byKind.set(kind, [...(byKind.get(kind) ?? []), `--name ${key.name}`]);
  }
  return [...byKind]
    .map(
      ([kind, names]) =>
        `temporal operator search-attribute create --namespace ${namespace} ${names.join(' ')} --type ${kind}`,
    )
    .join(' && ');
}

function refused(namespace: string, error: unknown): Error {
  if (!isGrpcServiceError(error)) return error as Error;
  if (error.code === PERMISSION_DENIED || error.code === UNAUTHENTICATED) {
    return new SearchAttributeSetupError(
      `Temporal refused to create the receipt search attributes in namespace "${namespace}" ` +
        `(${error.details}). An operator with admin rights runs once:\n  ${operatorCommand(namespace)}`,
    );
  }
  if (error.code === NOT_FOUND) {
    return new SearchAttributeSetupError(
      `Temporal namespace "${namespace}" does not exist (${error.details}). An operator creates it ` +
        `(temporal operator namespace create --namespace ${namespace}) or TEMPORAL_NAMESPACE names another.`,
    );
  }
  return error;
}

/**
 * Creates the receipt search attributes the namespace lacks; returns the names it created (none when all
 * were there). Throws SearchAttributeSetupError when the server refuses or one exists with another type;
 * other errors (Temporal unreachable) are thrown as they are, for the caller to retry.
 */
export async function ensureReceiptSearchAttributes(
  admin: SearchAttributeAdmin,
  namespace: string,
): Promise<string[]> {
  const created: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const existing = await admin
      .listSearchAttributes({ namespace })
      .then((r) => r.customAttributes ?? {})
      .catch((error: unknown) => {
        throw refused(namespace, error);
      });
    const missing: Record<string, IndexedValueType> = {};
    for (const key of RECEIPT_SEARCH_ATTRIBUTES) {
      const found = existing[key.name];
      if (found === undefined) missing[key.name] = INDEXED[key.type];
      else if (found !== INDEXED[key.type]) {
        throw new SearchAttributeSetupError(
          `search attribute ${key.name} exists in namespace "${namespace}" with another type ` +
            `(${Indexed[found]}); receipts need ${key.type}. An operator must resolve this by hand.`,
        );
      }
    }
    if (Object.keys(missing).length === 0) return created;
    try {
      await admin.addSearchAttributes({ namespace, searchAttributes: missing });
      created.push(...Object.keys(missing));
    } catch (error) {
      // Another process created some of them first: list again and add what is still missing.
      const raced = isGrpcServiceError(error) && error.code === ALREADY_EXISTS;
      if (!raced || attempt === 3) throw refused(namespace, error);
    }
  }
}

interface SetupLog {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * At worker start: connects to Temporal and ensures the attributes, waiting (with backoff, one log line) while
 * the server is unreachable. Throws SearchAttributeSetupError when the server refuses: the caller exits.
 */
export async function setUpReceiptSearchAttributes(
  target: { address: string; namespace: string },
  log: SetupLog,
  connect: (target: { address: string; namespace: string }) => Promise<Client>,
): Promise<void> {
  let delay = 1_000;
  let waiting = false;
  for (;;) {
    let client: Client | undefined;
    try {
      client = await connect(target);
      const admin = client.connection.operatorService;
      const created = await client.connection.withDeadline(Date.now() + 10_000, () =>
        ensureReceiptSearchAttributes(admin, target.namespace),
      );
      if (created.length) {
        log.info(`created search attributes ${created.join(', ')} in namespace ${target.namespace}`);
      }
      return;
    } catch (error) {
      if (error instanceof SearchAttributeSetupError) throw error;
      if (!waiting)
        log.warn(`waiting for Temporal at ${target.address} to check search attributes: ${error}`);
      waiting = true;
    } finally {
      await client?.connection.close().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}
