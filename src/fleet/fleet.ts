/**
 * A fleet link: how a pool shares what it learns of its clients with the other processes of a fleet, and
 * applies what they learned. `RedisFleet` (`clientpool/redis`) is the one the library ships; the core only
 * knows this interface, so it keeps no dependency (docs/fleet.md).
 *
 * The pool calls {@link Fleet.join} once, from its constructor, and {@link FleetSession.leave} when it
 * closes. Every other method of the session is called synchronously from the pool's bookkeeping: it must
 * return at once (queue its Redis work) and never throw (the pool guards it anyway, and reports a throw as
 * a `CLIENTPOOL_CALLBACK_ERROR` warning).
 */
export interface Fleet {
  /** Join `pool`'s clients to the fleet. A fleet object serves one pool: a second join throws. */
  join(pool: FleetHost): FleetSession;
}

/** What a fleet link may do to the pool that joined: apply what other processes saw. Names are the clients' names. */
export interface FleetHost {
  /** Names of the pool's clients now. */
  names(): readonly string[];
  /** Which probes this pool runs: health checks (`healthCheck`), height polls (`freshness.height`). A process probes for the fleet only what it runs. */
  readonly probes: { readonly health: boolean; readonly height: boolean };
  /**
   * Open the client's circuit here for `ms` (0: at once due for a probe) with `trips` consecutive openings
   * (1 by default, the cooldown's growth), as if it had failed here: another process saw it fail. Reported by `onStateChange` as any transition. A breaker without `trip()` (your
   * own kind) is not shared: nothing happens.
   */
  openCircuit(client: string, ms: number, trips?: number): void;
  /** Close the client's circuit here: another process's probes found it healthy. */
  closeCircuit(client: string): void;
  /** Keep the client out of the rotation for `ms`, as `call.pauseClient(ms)` does: another process was asked to. */
  pause(client: string, ms: number): void;
  /** Mark the client down or up, as a health check here would. */
  setDown(client: string, isDown: boolean): void;
  /** The client's last reported height, or undefined before any. */
  height(client: string): number | undefined;
  /** Report the client's height, as `call.reportHeight()` does (only raises it). */
  reportHeight(client: string, height: number): void;
  /** Look again at whether the client may take calls: {@link FleetSession.mayProbe} changed its answer. */
  recheck(client: string): void;
  /** Report a failure of the link as a `CLIENTPOOL_CALLBACK_ERROR` warning, once per kind. */
  warn(what: string, error: unknown): void;
}

/** What the pool tells a fleet link, and asks of it; every method returns at once. */
export interface FleetSession {
  /** The client's circuit opened here (`ms` until it may probe, `trips` consecutive openings). Not called for openings the link applied. */
  opened(client: string, ms: number, trips: number): void;
  /** The client's circuit closed here after its probes succeeded. Not called for closings the link applied. */
  closed(client: string): void;
  /** The client was paused here for `ms` (`call.pauseClient`, a Retry-After). Not called for pauses the link applied. */
  paused(client: string, ms: number): void;
  /** A health check here marked the client down or up. Not called for changes the link applied. */
  healthChanged(client: string, isDown: boolean): void;
  /**
   * The client's cooldown is over here: may this process send it half-open probes now? `0` for yes; or
   * the milliseconds to wait before asking again (another process is probing it). The link calls
   * {@link FleetHost.recheck} when its answer changes sooner.
   */
  mayProbe(client: string): number;
  /** Whether this process runs the client's health checks (`health`) or height polls (`height`): one prober per client may serve the fleet. */
  mayCheck(client: string, probe: 'health' | 'height'): boolean;
  /** The pool is closing: stop syncing, give back what this process holds. Resolves when done. */
  leave(): Promise<void>;
}
