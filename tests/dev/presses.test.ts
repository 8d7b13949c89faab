// How `npm run dev` reads the signals one or two Ctrl-C presses produce (src/dev/presses.ts).
import { describe, expect, it } from 'vitest';
import { PressCounter, SAME_PRESS_MS } from '../../src/dev/presses.js';

describe('PressCounter', () => {
  it('takes the first signal of any kind as an orderly stop', () => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
      expect(new PressCounter().receive(signal, 0)).toBe('orderly');
  });

  it('takes the copies of one press (terminal SIGINT, relayed SIGINT and SIGTERM) as that one press', () => {
    const presses = new PressCounter();
    expect(presses.receive('SIGINT', 1000)).toBe('orderly');
    expect(presses.receive('SIGINT', 1003)).toBeUndefined();
    expect(presses.receive('SIGTERM', 1004)).toBeUndefined();
    expect(presses.receive('SIGINT', 1000 + SAME_PRESS_MS - 1)).toBeUndefined();
  });

  it('never takes a later SIGTERM or SIGHUP as a second press', () => {
    const presses = new PressCounter();
    presses.receive('SIGINT', 0);
    expect(presses.receive('SIGTERM', 5 * SAME_PRESS_MS)).toBeUndefined();
    expect(presses.receive('SIGHUP', 6 * SAME_PRESS_MS)).toBeUndefined();
  });

  it('takes a person pressing Ctrl-C again as "now", once', () => {
    const presses = new PressCounter();
    presses.receive('SIGINT', 0);
    expect(presses.receive('SIGINT', SAME_PRESS_MS)).toBe('now');
    expect(presses.receive('SIGINT', 3 * SAME_PRESS_MS)).toBeUndefined();
  });
});
