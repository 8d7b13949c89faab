// One Ctrl-C reaches this process more than once: the terminal signals the whole foreground group (npm,
// scripts/with-tools.mjs and us), and npm and with-tools relay what they got to their child, SIGINT or
// SIGTERM. Those copies arrive within milliseconds of each other; a person's second press comes later.

export type StopRequest = 'orderly' | 'now';

/** Copies of one press arrive within this; a person pressing again to hurry takes longer. */
export const SAME_PRESS_MS = 1000;

export class PressCounter {
  private firstAt: number | undefined;
  private hurried = false;

  /**
   * The stop a signal asks for, or undefined when it asks nothing new. The first signal of any kind asks for
   * an orderly stop. Later, only a SIGINT (a person at the terminal) at least SAME_PRESS_MS after the first
   * asks for "now"; a later SIGTERM or SIGHUP is a relay or a process manager repeating itself.
   */
  receive(signal: NodeJS.Signals, at: number): StopRequest | undefined {
    if (this.firstAt === undefined) {
      this.firstAt = at;
      return 'orderly';
    }
    if (this.hurried || signal !== 'SIGINT' || at - this.firstAt < SAME_PRESS_MS) return undefined;
    this.hurried = true;
    return 'now';
  }
}
