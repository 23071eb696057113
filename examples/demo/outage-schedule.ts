// When the outage upstream is down: from 30 % to 60 % of each cycle, where a cycle is the run's
// --duration (or 30 s when the demo runs until Ctrl-C, the outage then repeating every 30 s). With the
// default 30 s it is down from t=9 s to t=18 s; with --duration 12, from t=3.6 s to t=7.2 s.
import type { UpstreamServer } from './upstream-server.js';

/** Cycle length when the demo runs until stopped. */
export const OPEN_ENDED_CYCLE_MS = 30_000;
const DOWN_AT = 0.3;
const UP_AT = 0.6;

/** The down window of a cycle, in ms from the cycle's start. */
export function outageWindow(cycleMs: number): { readonly downAt: number; readonly upAt: number } {
  return { downAt: DOWN_AT * cycleMs, upAt: UP_AT * cycleMs };
}

/** Kills and restarts one upstream on schedule, reporting what it did. */
export class OutageSchedule {
  readonly #server: UpstreamServer;
  readonly #cycleMs: number;
  readonly #report: (message: string) => void;
  readonly #timers = new Set<NodeJS.Timeout>();
  #isStopped = false;
  /** Clock time (performance.now()) the next change is due, for the dashboard. */
  #nextChangeAt = Number.NaN;

  constructor(server: UpstreamServer, cycleMs: number, report: (message: string) => void) {
    this.#server = server;
    this.#cycleMs = cycleMs;
    this.#report = report;
  }

  get nextChangeAt(): number {
    return this.#nextChangeAt;
  }

  /** Start the schedule at `startedAt` (performance.now()); with `repeat`, one cycle after another. */
  start(startedAt: number, repeat: boolean): void {
    const { downAt, upAt } = outageWindow(this.#cycleMs);
    const cycle = (cycleStart: number): void => {
      this.#at(cycleStart + downAt, () => this.#kill(cycleStart + upAt));
      this.#at(cycleStart + upAt, () => this.#restart(repeat ? cycleStart + this.#cycleMs + downAt : Number.NaN));
      if (repeat) this.#at(cycleStart + this.#cycleMs, () => cycle(cycleStart + this.#cycleMs));
    };
    this.#nextChangeAt = startedAt + downAt;
    cycle(startedAt);
  }

  /** Cancel what is still to come. */
  stop(): void {
    this.#isStopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #at(time: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#isStopped) action();
    }, Math.max(0, time - performance.now()));
    this.#timers.add(timer);
  }

  #kill(backAt: number): void {
    this.#nextChangeAt = backAt;
    this.#server.kill().then(
      (connections) => this.#report(`${this.#server.name}: upstream killed (port ${this.#server.port} closed, ${connections} connection${connections === 1 ? '' : 's'} destroyed)`),
      (error: unknown) => this.#report(`${this.#server.name}: kill failed: ${String(error)}`),
    );
  }

  #restart(nextDownAt: number): void {
    this.#nextChangeAt = nextDownAt;
    if (this.#isStopped) return;
    this.#server.start().then(
      () => this.#report(`${this.#server.name}: upstream restarted on port ${this.#server.port}`),
      (error: unknown) => this.#report(`${this.#server.name}: restart failed: ${String(error)}`),
    );
  }
}
