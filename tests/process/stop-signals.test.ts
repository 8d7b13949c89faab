// The API's and the worker's stop signals: a relayed copy of the first (npm, a terminal's group, systemd's
// control group) is ignored; a signal a second or more later means "now", once.
import { describe, expect, it } from 'vitest';
import { REPEAT_WINDOW_MS, StopSignals } from '../../src/process/stop-signals.js';

describe('StopSignals', () => {
  it('takes the first signal as the orderly stop and its copies as nothing', () => {
    const signals = new StopSignals();
    expect(signals.receive(1000)).toBe('orderly');
    expect(signals.receive(1003)).toBeUndefined(); // npm's relay of the same Ctrl-C
    expect(signals.receive(1000 + REPEAT_WINDOW_MS - 1)).toBeUndefined();
  });

  it('takes a later signal as "now", once', () => {
    const signals = new StopSignals();
    expect(signals.receive(0)).toBe('orderly');
    expect(signals.receive(REPEAT_WINDOW_MS)).toBe('now');
    expect(signals.receive(REPEAT_WINDOW_MS + 5)).toBeUndefined();
    expect(signals.receive(10 * REPEAT_WINDOW_MS)).toBeUndefined();
  });
});
