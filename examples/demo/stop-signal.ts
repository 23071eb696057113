// When to stop: after --duration, or on Ctrl-C (SIGINT) or SIGTERM, whichever comes first. Another
// Ctrl-C while shutting down exits at once, so that nobody is ever stuck; but not one within the first
// second, which is most likely the same Ctrl-C relayed (the terminal signals the whole process group, and
// npm passes the signal on to its child as well).

/** Repeats of the stopping signal this soon after it are taken as the same one, relayed (a busy machine can delay the relay past a second). */
const RELAY_WINDOW_MS = 3_000;

/** Why the demo stopped. */
export type StopReason = 'duration' | 'SIGINT' | 'SIGTERM';

export interface StopSignal {
  /** Resolves with the first reason to stop. */
  readonly stopped: Promise<StopReason>;
  /** Remove the signal handlers and the timer. */
  dispose(): void;
}

/** Wait for `durationMs` (`Infinity`: forever) or a signal. */
export function stopSignal(durationMs: number, onForced: (signal: NodeJS.Signals) => void): StopSignal {
  let timer: NodeJS.Timeout | undefined;
  let stoppingSince = Number.NaN;
  let handlers: [NodeJS.Signals, () => void][] = [];
  const stopped = new Promise<StopReason>((resolve) => {
    const stop = (reason: StopReason): void => {
      stoppingSince = performance.now();
      clearTimeout(timer);
      resolve(reason);
    };
    if (Number.isFinite(durationMs)) timer = setTimeout(() => stop('duration'), durationMs);
    handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => [
      signal,
      () => {
        if (Number.isNaN(stoppingSince)) stop(signal);
        else if (performance.now() - stoppingSince > RELAY_WINDOW_MS) onForced(signal);
      },
    ]);
    for (const [signal, handler] of handlers) process.on(signal, handler);
  });
  return {
    stopped,
    dispose() {
      clearTimeout(timer);
      for (const [signal, handler] of handlers) {
        process.off(signal, handler);
        // The relayed copy of the signal that stopped us may still be on its way (a busy machine delays
        // it): swallowed, or its default action would kill a process that is exiting cleanly.
        process.on(signal, ignore);
      }
    },
  };
}

function ignore(): void {}
