// A middleware of our own, registered last (innermost): it sees every attempt on a client — first tries,
// retries and hedges — and feeds each client's sliding window for the dashboard.
import { isCancelled, type AttemptKind, type Call, type Middleware, type Next } from '../../src/index.js';
import { SlidingWindow } from './sliding-window.js';

/** Per-client windows of attempts, and attempt counts by kind. */
export class AttemptRecorder implements Middleware {
  readonly name = 'dashboard-recorder';
  readonly #windows = new Map<string, SlidingWindow>();
  /** Attempts started, by kind: how often the pool retried and hedged. */
  readonly kinds: Record<AttemptKind, number> = { first: 0, retry: 0, hedge: 0, quorum: 0 };

  /** The window of a client (made on first use). */
  windowOf(client: string): SlidingWindow {
    let window = this.#windows.get(client);
    if (window === undefined) this.#windows.set(client, (window = new SlidingWindow()));
    return window;
  }

  async execute(call: Call<unknown>, next: Next): Promise<unknown> {
    const window = this.windowOf(call.clientName);
    this.kinds[call.kind]++;
    const started = performance.now();
    try {
      const result = await next(call);
      window.success(performance.now() - started);
      return result;
    } catch (error) {
      if (isCancelled(call)) window.cancelled();
      else window.error();
      throw error;
    }
  }
}
