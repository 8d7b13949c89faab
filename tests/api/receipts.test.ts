// The receipt starter's bounded wait and circuit breaker, with a fake Temporal and a fake clock.
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createTemporalReceiptStarter, type TemporalStarterOptions } from '../../src/api/receipts.js';

const receipt = (transactionId: number) => ({
  transactionId,
  kind: 'transfer' as const,
  senderId: 1,
  receiverId: 2,
  amount: '1.00',
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quiet = { warn: () => undefined, info: () => undefined, debug: () => undefined };

function harness(overrides: Partial<TemporalStarterOptions> = {}) {
  let clock = 1_000_000;
  const state = {
    connects: 0,
    launches: 0,
    closed: 0,
    started: [] as number[],
    behaviour: 'ok' as 'ok' | 'fail' | 'hang',
  };
  const client = { connection: { close: async () => void state.closed++ } } as unknown as Client;
  const starter = createTemporalReceiptStarter({
    connect: async () => {
      state.connects++;
      return client;
    },
    taskQueue: 'q',
    onStarted: (id) => state.started.push(id),
    log: quiet,
    waitMs: 30,
    openMs: 5000,
    now: () => clock,
    launch: async () => {
      state.launches++;
      if (state.behaviour === 'fail') throw new Error('UNAVAILABLE');
      if (state.behaviour === 'hang') await sleep(150);
    },
    check: async () => {
      if (state.behaviour !== 'ok') throw new Error('down');
    },
    ...overrides,
  });
  return { starter, state, advance: (ms: number) => (clock += ms) };
}

describe('receipt starter', () => {
  it('starts, marks the receipt started, and connects only once', async () => {
    const { starter, state } = harness();
    expect(await starter.start(receipt(1))).toBe('started');
    expect(await starter.start(receipt(2))).toBe('started');
    expect(state.started).toEqual([1, 2]);
    expect(state.connects).toBe(1);
    expect(await starter.health()).toBe('up');
  });

  it('after a failed start, skips starts for a while without touching Temporal', async () => {
    const { starter, state, advance } = harness();
    state.behaviour = 'fail';
    expect(await starter.start(receipt(1))).toBe('pending');
    const launches = state.launches;
    for (let i = 2; i < 20; i++) expect(await starter.start(receipt(i))).toBe('pending');
    expect(state.launches).toBe(launches);
    expect(await starter.health()).toBe('down');
    advance(4999);
    expect(await starter.start(receipt(30))).toBe('pending');
    expect(state.launches).toBe(launches);
    expect(state.started).toEqual([]);
  });

  it('after a slow start, stops waiting at the bound, still marks it when it lands, and pauses', async () => {
    const { starter, state } = harness();
    state.behaviour = 'hang';
    expect(await starter.start(receipt(7))).toBe('pending');
    expect(state.started).toEqual([]);
    await sleep(200);
    expect(state.started).toEqual([7]); // finished in the background
    expect(await starter.start(receipt(8))).toBe('pending');
    expect(state.launches).toBe(1);
  });

  it('lets one probe through in the background when the pause is over; a quick success resumes starts', async () => {
    const { starter, state, advance } = harness();
    expect(starter.startState()).toEqual({ state: 'starting', reason: null });
    state.behaviour = 'fail';
    await starter.start(receipt(1));
    expect(starter.startState()).toEqual({ state: 'not_starting', reason: 'Temporal is unreachable' });
    advance(5000);
    state.behaviour = 'hang'; // a probe that is slow counts as a failure
    const [probe, skipped] = await Promise.all([starter.start(receipt(2)), starter.start(receipt(3))]);
    expect([probe, skipped]).toEqual(['pending', 'pending']); // nobody waited for the probe
    expect(state.launches).toBe(2); // the probe only
    await sleep(200);
    expect(state.started).toEqual([2]); // it did land, late: the receipt is marked
    expect(await starter.start(receipt(4))).toBe('pending'); // paused again
    expect(starter.startState().reason).toMatch(/time out/);
    expect(state.launches).toBe(2);
    advance(5000);
    state.behaviour = 'ok';
    expect(await starter.start(receipt(5))).toBe('pending'); // the next probe, which succeeds quickly
    await sleep(10);
    expect(await starter.start(receipt(6))).toBe('started');
    expect(state.started).toEqual([2, 5, 6]);
    expect(starter.startState()).toEqual({ state: 'starting', reason: null });
  });

  it('connects again after a failed connect', async () => {
    let connects = 0;
    const { starter, advance } = harness({
      connect: async () => {
        connects++;
        throw new Error('ECONNREFUSED');
      },
    });
    expect(await starter.start(receipt(1))).toBe('pending');
    advance(5000);
    expect(await starter.start(receipt(2))).toBe('pending');
    expect(connects).toBe(2);
  });

  it('closes its connection, and starts nothing after close', async () => {
    const { starter, state } = harness();
    await starter.start(receipt(1));
    await starter.close();
    expect(state.closed).toBe(1);
    expect(await starter.start(receipt(2))).toBe('pending');
    expect(state.launches).toBe(1);
  });
});
