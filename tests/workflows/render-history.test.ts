// The render-history helper reads both shapes of the receipt workflow: today's ordinary render activity
// (a recorded history) and a local render, alone or falling back to an ordinary activity (built events).
import { readFile } from 'node:fs/promises';
import type { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { renderAttempts, renderFailures, renderShape } from '../helpers/render-history.js';
import { historyFromJson } from './history-json.js';

// Built events carry plain numbers where the protobuf types say Long; the helper compares them as strings.
const fake = (events: object[]) => ({ events }) as unknown as temporal.api.history.v1.IHistory;

const marker = (activityType: string, attempt: number) => ({
  markerRecordedEventAttributes: {
    markerName: 'core_local_activity',
    details: {
      data: {
        payloads: [{ data: Buffer.from(JSON.stringify({ activity_type: activityType, attempt })) }],
      },
    },
  },
});
const scheduled = (eventId: number, name: string) => ({
  eventId,
  activityTaskScheduledEventAttributes: { activityType: { name } },
});
const started = (scheduledEventId: number, attempt: number) => ({
  activityTaskStartedEventAttributes: { scheduledEventId, attempt },
});

describe('render attempts in a receipt history', () => {
  it('an ordinary render activity, rendered at the first attempt (a recorded first-version history)', async () => {
    const json = JSON.parse(
      await readFile(new URL('fixtures/v1-transfer-rendered.json', import.meta.url), 'utf8'),
    );
    const history = historyFromJson(json);
    expect([renderShape(history), renderAttempts(history)]).toEqual(['activity', 1]);
  });

  it('a local print, rendered at the first attempt (a recorded current-version history)', async () => {
    const json = JSON.parse(
      await readFile(new URL('fixtures/transfer-rendered.json', import.meta.url), 'utf8'),
    );
    const history = historyFromJson(json);
    expect([renderShape(history), renderAttempts(history)]).toEqual(['local', 1]);
  });

  it('an ordinary render retried: the last ActivityTaskStarted attempt', () => {
    const history = fake([
      marker('loadReceiptDocument', 1),
      scheduled(5, 'renderAndStoreReceipt'),
      started(5, 3),
    ]);
    expect([renderShape(history), renderAttempts(history)]).toEqual(['activity', 3]);
  });

  it('a local render: the marker attempt; a failed local render falling back counts both', () => {
    const local = fake([marker('loadReceiptDocument', 1), marker('renderReceiptLocally', 2)]);
    expect([renderShape(local), renderAttempts(local)]).toEqual(['local', 2]);
    const fallback = fake([
      marker('renderReceiptLocally', 1),
      scheduled(7, 'renderAndStoreReceipt'),
      started(7, 1),
    ]);
    expect([renderShape(fallback), renderAttempts(fallback)]).toEqual(['local', 2]);
  });

  it('a local render whose workflow task was lost (timed out or failed) counts each lost task as a render', () => {
    // The worker died or starved while printing in the task: no marker for that try, the next task prints.
    const timedOut = { workflowTaskTimedOutEventAttributes: {} };
    const failed = { workflowTaskFailedEventAttributes: {} };
    const lost = fake([marker('loadReceiptDocument', 1), timedOut, failed, marker('printReceipt', 1)]);
    expect([renderShape(lost), renderAttempts(lost)]).toEqual(['local', 3]);
    // In the ordinary-activity shape a lost workflow task renders nothing: only the activity's attempts count.
    const activity = fake([timedOut, scheduled(5, 'renderAndStoreReceipt'), started(5, 1)]);
    expect([renderShape(activity), renderAttempts(activity)]).toEqual(['activity', 1]);
  });

  it('why render attempts failed: a local marker with a failure, an ordinary activity failed or timed out', () => {
    const gone = {
      message: 'Chromium disconnected',
      applicationFailureInfo: { type: 'RendererUnavailableError' },
    };
    const localFailed = { ...marker('printReceipt', 1) };
    localFailed.markerRecordedEventAttributes = {
      ...localFailed.markerRecordedEventAttributes,
      failure: gone,
    } as never;
    const history = fake([
      marker('loadReceiptDocument', 1),
      localFailed,
      scheduled(7, 'printReceiptAlone'),
      {
        activityTaskFailedEventAttributes: {
          scheduledEventId: 7,
          failure: { message: 'wrapped', cause: gone },
        },
      },
      {
        activityTaskTimedOutEventAttributes: {
          scheduledEventId: 7,
          failure: { timeoutFailureInfo: { timeoutType: 1 } },
        },
      },
    ]);
    expect(renderFailures(history)).toEqual([
      { type: 'RendererUnavailableError', message: 'Chromium disconnected' },
      { type: 'RendererUnavailableError', message: 'wrapped: Chromium disconnected' },
      { type: 'timeout 1', message: '' },
    ]);
    expect(renderFailures(fake([marker('printReceipt', 1)]))).toEqual([]);
  });

  it('no render yet', () => {
    const history = fake([marker('loadReceiptDocument', 1)]);
    expect([renderShape(history), renderAttempts(history)]).toEqual([undefined, 0]);
  });
});
