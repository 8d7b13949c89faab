// Where a receipt's render shows up in Temporal, in both shapes the workflow may take: an ordinary activity
// (ActivityTaskStarted events, a pending activity while it runs) or a local activity (a `core_local_activity`
// marker once it is done; while it runs, only the workflow task the worker holds). Keep every test's reading
// of render attempts here, so a change of the workflow's shape is adapted in one place.
import type { Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';

type History = proto.api.history.v1.IHistory;
type HistoryEvent = proto.api.history.v1.IHistoryEvent;

const ACTIVITY_STARTED = proto.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
const TASK_STARTED = proto.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED;
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
export const LOCAL_RENDER_AFTER_MS = 1000;
// renderAndStoreReceipt (the first workflow version), printReceipt (local) and printReceiptAlone (its fallback).
const isRender = (activityType: string | null | undefined) => /render|print/i.test(activityType ?? '');

interface LocalActivityMarker {
  activity_type: string;
  attempt: number;
}

function localActivity(event: HistoryEvent): LocalActivityMarker | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as LocalActivityMarker) : undefined;
}

/**
 * How many times the receipt was rendered or tried: for every ordinary render activity its last
 * ActivityTaskStarted attempt, plus the highest attempt of the local render markers (a local activity retried
 * after a backoff keeps counting its attempts). A local render that failed and fell back to an ordinary
 * activity counts both, so a second try shows as 2 in either shape.
 */
export function renderAttempts(history: History): number {
  const events = history.events ?? [];
  const renderScheduled = new Set(
    events
      .filter((e) => isRender(e.activityTaskScheduledEventAttributes?.activityType?.name))
      .map((e) => String(e.eventId)),
  );
  const lastAttempt = new Map<string, number>();
  for (const e of events) {
    const started = e.activityTaskStartedEventAttributes;
    const scheduledId = String(started?.scheduledEventId);
    if (started && renderScheduled.has(scheduledId))
      lastAttempt.set(scheduledId, Math.max(lastAttempt.get(scheduledId) ?? 0, started.attempt ?? 1));
  }
  const local = events
    .map(localActivity)
    .filter((m) => m && isRender(m.activity_type))
    .map((m) => m?.attempt ?? 1);
  // A local render runs inside a workflow task: when that task times out or fails (worker starved or killed),
  // its marker is never recorded and the next task renders again. Each such task is one more render tried.
  const lostTasks = local.length
    ? events.filter((e) => e.workflowTaskTimedOutEventAttributes || e.workflowTaskFailedEventAttributes)
        .length
    : 0;
  return [...lastAttempt.values()].reduce((a, b) => a + b, 0) + Math.max(0, ...local) + lostTasks;
}

export type RenderShape = 'activity' | 'local';

/** Which shape a finished receipt workflow rendered in (a local render that fell back counts as local). */
export function renderShape(history: History): RenderShape | undefined {
  const events = history.events ?? [];
  if (events.some((e) => isRender(localActivity(e)?.activity_type))) return 'local';
  if (events.some((e) => isRender(e.activityTaskScheduledEventAttributes?.activityType?.name)))
    return 'activity';
  return undefined;
}

/**
 * Whether a render of this workflow's receipt is running right now, as far as the server can tell. An
 * ordinary render shows as a started pending activity; a local one only as a workflow task held long enough,
 * which is looked for only when `shape` says the workflow renders locally (loading the document would
 * otherwise look the same on a slow machine).
 */
export async function renderInFlight(
  client: Client,
  workflowId: string,
  shape?: RenderShape,
): Promise<boolean> {
  const description = await client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => undefined);
  const raw = description?.raw;
  if (!raw || description.status.name !== 'RUNNING') return false;
  if (raw.pendingActivities?.some((a) => isRender(a.activityType?.name) && a.state === ACTIVITY_STARTED))
    return true;
  // A local render runs while the worker holds a workflow task. Loading the document before it takes
  // milliseconds, so a task held for longer than LOCAL_RENDER_AFTER_MS is in the render (when the test slows
  // renders down beyond that with RECEIPT_RENDER_DELAY_MS).
  const task = raw.pendingWorkflowTask;
  if (shape !== 'local') return false;
  if (task?.state !== TASK_STARTED || !task.startedTime?.seconds) return false;
  const startedMs = Number(String(task.startedTime.seconds)) * 1000 + (task.startedTime.nanos ?? 0) / 1e6;
  if (Date.now() - startedMs < LOCAL_RENDER_AFTER_MS) return false;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const renderScheduled = (history.events ?? []).some((e) =>
    isRender(e.activityTaskScheduledEventAttributes?.activityType?.name),
  );
  return !renderScheduled && renderAttempts(history) === 0;
}

export interface RenderFailure {
  /** The application failure's type (the error's name), or the kind of timeout, or undefined. */
  type: string | undefined;
  message: string;
}

type Failure = proto.api.failure.v1.IFailure;

/** The failure and its causes, outermost first. */
function chain(failure: Failure | null | undefined): Failure[] {
  const out: Failure[] = [];
  for (let f = failure; f; f = f.cause) out.push(f);
  return out;
}

function describeFailure(failure: Failure | null | undefined): RenderFailure {
  const all = chain(failure);
  const app = all.find((f) => f.applicationFailureInfo);
  const timeout = all.find((f) => f.timeoutFailureInfo);
  return {
    type:
      app?.applicationFailureInfo?.type ??
      (timeout ? `timeout ${timeout.timeoutFailureInfo?.timeoutType}` : undefined),
    message: all.map((f) => f.message ?? '').join(': '),
  };
}

/**
 * Why each failed render attempt failed, in history order: local renders whose marker records a failure,
 * and ordinary render activities that failed or timed out.
 */
export function renderFailures(history: History): RenderFailure[] {
  const events = history.events ?? [];
  const renderScheduled = new Set(
    events
      .filter((e) => isRender(e.activityTaskScheduledEventAttributes?.activityType?.name))
      .map((e) => String(e.eventId)),
  );
  const failures: RenderFailure[] = [];
  for (const e of events) {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.failure && isRender(localActivity(e)?.activity_type))
      failures.push(describeFailure(marker.failure));
    const failed = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (failed && renderScheduled.has(String(failed.scheduledEventId)))
      failures.push(describeFailure(failed.failure));
  }
  return failures;
}
