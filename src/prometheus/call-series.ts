import { Buckets } from './buckets.js';
import type { Labels } from './family.js';
import type { ClientKeyed } from './removed-clients.js';

/**
 * The counts of one client × method: what the adapter updates as each attempt ends, in plain numbers.
 * Found once per attempt through {@link ClientSeries.byMethod}; read by the families at scrape time.
 */
export class CallSeries {
  readonly labels: Labels;
  /** Attempts that ended, whatever the outcome. */
  requests = 0;
  /** Attempts whose outcome was `failure` (a timeout among them), `answered` or `refused`. */
  errors = 0;
  /** Attempts whose outcome was `cancelled`: the caller left, a hedge won elsewhere, the pool was destroyed. */
  cancelled = 0;
  /** Attempts that retried a failed pool call. */
  retries = 0;
  /** Attempts that hedged a slow pool call. */
  hedges = 0;
  /** Durations in seconds. */
  readonly duration: Buckets;

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.duration = new Buckets(bounds);
  }

  reset(): void {
    this.requests = 0;
    this.errors = 0;
    this.cancelled = 0;
    this.retries = 0;
    this.hedges = 0;
    this.duration.reset();
  }
}

/** One client's call series by method. Methods past the cap are not keys here: they all share `other`. */
export class ClientSeries implements ClientKeyed {
  readonly name: string;
  readonly byMethod = new Map<string, CallSeries>();
  /** See {@link ClientKeyed}: -1 while the client is in a pool. */
  goneAt = -1;
  goneSince = 0;

  constructor(name: string) {
    this.name = name;
  }

  get client(): string {
    return this.name;
  }
}
