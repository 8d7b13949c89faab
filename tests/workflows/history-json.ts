// Reads a JSON history (as `temporal workflow show --output json` writes it) into a History object.
// The SDK's own historyFromJSON fails in this install: npm nests two copies of protobufjs 8 (one under
// @temporalio/common, one under @temporalio/proto, because the root holds grpc's protobufjs 7), and
// common's JSON codec then rejects proto's types ("type must be a Type"). Taking the codec from the copy
// that @temporalio/proto itself resolves works with any layout, hoisted or nested.
import { createRequire } from 'node:module';
import type { History } from '@temporalio/common/lib/proto-utils.js';

const require = createRequire(import.meta.url);
const protoRequire = createRequire(require.resolve('@temporalio/proto'));

interface ProtoJson {
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}
interface PatchedRoot {
  lookupType(name: string): unknown;
}

const { fromJson } = protoRequire('protobufjs/ext/protojson') as ProtoJson;
const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as {
  patchProtobufRoot(root: unknown): PatchedRoot;
};
const historyType = patchProtobufRoot(require('@temporalio/proto')).lookupType(
  'temporal.api.history.v1.History',
);

export function historyFromJson(json: unknown): History {
  const history = fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a Temporal history');
  return history as History;
}
