// SIGTERM and SIGINT for the API and the worker: the first asks for an orderly stop, a later one to stop now.
// One request often arrives twice: the scripts `exec` their node, so npm is the parent and relays what it
// gets to it, while a terminal's Ctrl-C (the whole foreground group) or systemd's default KillMode
// (the whole control group) also signals node directly. Copies land within milliseconds; a person or a
// supervisor insisting comes later. So a repeat within REPEAT_WINDOW_MS of the first is the same request.

export const REPEAT_WINDOW_MS = 1000;

export type StopKind = 'orderly' | 'now';

/** Classifies stop signals by their arrival time; undefined for a copy of the first. */
export class StopSignals {
  private firstAt: number | undefined;
  private hurried = false;

  receive(at: number): StopKind | undefined {
    if (this.firstAt === undefined) {
      this.firstAt = at;
      return 'orderly';
    }
    if (this.hurried || at - this.firstAt < REPEAT_WINDOW_MS) return undefined;
    this.hurried = true;
    return 'now';
  }
}

/** Calls onStop once for the orderly stop and once more for "now", ignoring copies. */
export function onStopSignals(onStop: (kind: StopKind, signal: NodeJS.Signals) => void): void {
  const signals = new StopSignals();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      const kind = signals.receive(Date.now());
      if (kind) onStop(kind, signal);
    });
  }
}
