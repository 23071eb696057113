import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { InvalidOptionError, TimeoutError } from '../errors.js';
import { Emitter, type Event } from '../events.js';
import type { Fleet, FleetHost, FleetSession } from '../fleet/fleet.js';
import { emitWarning } from '../util/host.js';
import { givenOr, clockOption, integerAtLeast, keySet, knownKeys, nonEmptyString, optionsObject, positiveDuration } from '../validate.js';
import { ConfigMismatchError, configFingerprint } from './config-fingerprint.js';
import { scriptClient, type RedisScriptClient } from './eval-script.js';
import { runReport, runSync, type ReportKind, type ReportReply, type SyncReply } from './fleet-scripts.js';

const OPTION_KEYS = keySet(['redis', 'key', 'quorum', 'syncInterval', 'timeout', 'recheckInterval', 'probeLease', 'proberLease', 'share', 'id', 'onMismatch', 'clock']);
const SHARE_KEYS = keySet(['circuits', 'pauses', 'health', 'heights']);
/** How long the fleet's hash lives with no process syncing: a day. */
const IDLE_TTL_MS = 86_400_000;
/** How long an opening nobody probes or closes is kept past its end: an hour. */
const STALE_OPEN_MS = 3_600_000;
/** Other configurations warned of at most: a key rewritten by ever new settings must not grow memory. */
const MAX_WARNED = 16;
/** The key of the one warning about names that cannot be shared (fingerprints are the other keys: never this). */
const ILL_FORMED = '\u0000ill-formed';
/** A process id: what the scripts can store between their separators. */
const ID_PATTERN = /^[A-Za-z0-9._:@/-]{1,128}$/;

/** What a fleet shares; each is on by default. */
export interface FleetShare {
  /** Circuit openings and closings, and the half-open probe lease. @default true */
  readonly circuits?: boolean;
  /** Pauses (`call.pauseClient`, Retry-After). @default true */
  readonly pauses?: boolean;
  /** Health-check verdicts, with one prober per client for the fleet. @default true */
  readonly health?: boolean;
  /** Heights (`freshness`), polled by one process per client and raised everywhere. @default true */
  readonly heights?: boolean;
}

/** Options of a {@link RedisFleet}. */
export interface RedisFleetOptions {
  /**
   * The Redis connection, owned by you (never connected, reconnected or quit here). Give ioredis
   * `enableOfflineQueue: false` and `maxRetriesPerRequest: 0`, so that commands fail at once while Redis is
   * down instead of queueing.
   */
  readonly redis: RedisScriptClient;
  /** The Redis key (one hash) the fleet's state lives in: one per set of interchangeable clients, shared by every process of the fleet. */
  readonly key: string;
  /**
   * Processes that must see a client's circuit open before it opens fleet-wide: 1 trusts any process;
   * more keeps one process with a broken network from ejecting an upstream for everyone. A vote lasts
   * the voter's cooldown.
   * @default 1
   */
  readonly quorum?: number;
  /** Milliseconds between syncs, in which the fleet's changes reach this process. @default 250 */
  readonly syncInterval?: number;
  /** Milliseconds each Redis round trip may take; past it the fleet falls back to the local view. @default 200 */
  readonly timeout?: number;
  /** While Redis is down or slow, milliseconds between tries. @default 1_000 */
  readonly recheckInterval?: number;
  /**
   * Milliseconds the half-open probe lease lasts: the one process that holds it probes a client open
   * fleet-wide; if that process dies, another may probe once it expires. Longer than a probe takes.
   * @default 10_000
   */
  readonly probeLease?: number;
  /** Milliseconds a process stays a client's health prober without syncing; then another takes over. @default 5_000 */
  readonly proberLease?: number;
  /** What is shared. @default all of it */
  readonly share?: FleetShare;
  /** This process's name in the fleet: letters, digits and `._:@/-`. @default `<hostname>:<pid>:<random>` */
  readonly id?: string;
  /**
   * Another process syncing the same key with other settings (quorum, leases, what is shared): `'warn'`
   * reports it (`onMismatch`, a `CLIENTPOOL_CONFIG_MISMATCH` warning) and goes on; `'refuse'` also stops
   * sharing (the local view) until the settings agree.
   * @default 'warn'
   */
  readonly onMismatch?: 'warn' | 'refuse';
  /** Time source for this process's waits. @default performance.now() */
  readonly clock?: Clock;
}

/** Where the fleet stands: sharing through Redis, on the local view while Redis is unavailable, or closed. */
export type RedisFleetState =
  | { readonly mode: 'idle' }
  | { readonly mode: 'redis' }
  | { readonly mode: 'fallback'; readonly since: number; readonly cause: Error }
  | { readonly mode: 'closed' };

/** The fleet stopped sharing: Redis failed, timed out, or (under `onMismatch: 'refuse'`) disagrees. */
export interface FleetFallbackEvent {
  readonly key: string;
  readonly cause: Error;
}

/** Redis answered again: the fleet's state was read and this process's own re-published. */
export interface FleetRecoverEvent {
  readonly key: string;
  /** Milliseconds spent on the local view. */
  readonly downMs: number;
}

/** What this process applied of another's report. */
export interface FleetApplyEvent {
  readonly client: string;
  readonly kind: 'open' | 'close' | 'pause' | 'down' | 'up';
  /** Milliseconds from the other process's report to this sync (server clock); NaN for a `close` (Redis keeps no time of a closing). */
  readonly lagMs: number;
}

/** Counters for metrics; every field but `mode`, `syncAgeMs` and `lastLagMs` only grows. */
export interface RedisFleetStats {
  readonly mode: RedisFleetState['mode'];
  /** Syncs that succeeded. */
  readonly syncs: number;
  /** Round trips that failed or timed out. */
  readonly failures: number;
  /** Switches to the local view. */
  readonly fallbacks: number;
  /** Reports sent: openings, closings, pauses, health verdicts, lease asks. */
  readonly reports: number;
  /** Reports of other processes applied here. */
  readonly applied: number;
  /** Milliseconds since the last successful sync (Infinity before any). */
  readonly syncAgeMs: number;
  /** Milliseconds from another process's report to its application here, for the last one applied (NaN before any). */
  readonly lastLagMs: number;
  /** Syncs that found another configuration on the key. */
  readonly mismatches: number;
}

interface LocalCircuit {
  readonly isOpen: boolean;
  /** Local clock time the opening ends. */
  readonly until: number;
  readonly trips: number;
}

interface Report {
  readonly kind: ReportKind;
  readonly client: string;
  /** For `open` and `pause`: the local clock time it ends; for `health`: 1 down, 0 up. */
  readonly value: number;
  readonly trips: number;
}

/**
 * Circuit state, pauses, health and heights shared by every process of a fleet through one Redis hash
 * (docs/fleet.md). Give it to a pool as its `fleet` option; one `RedisFleet` serves one pool.
 *
 * - **Openings.** A circuit that opens here is reported (a vote); once `quorum` processes agree, every
 *   process opens it for what is left of the cooldown. When the cooldown ends, only the process holding
 *   the fleet's probe lease (`probeLease` ms, given back when its half-open period ends) sends half-open
 *   probes: at most `halfOpenProbes` probes for the whole fleet. Its probes closing the circuit close it
 *   everywhere; failing, they open it again everywhere, with the cooldown grown.
 * - **Pauses** (`call.pauseClient`, Retry-After) hold on every process for their length.
 * - **Health and heights.** One process (the prober, `proberLease`) runs each client's health checks and
 *   height polls; its verdicts apply everywhere, and heights are raised to the highest reported.
 * - **Redis slow or down.** Every round trip is bounded by `timeout`. On a failure the fleet falls back to
 *   the local view at once (`onFallback`): local breakers, local probes, every process checks its own
 *   clients. It tries again every `recheckInterval`, and when Redis answers (`onRecover`) re-publishes
 *   what this process holds open and reads the fleet's state. No call ever fails because Redis is down.
 *
 * @example
 * ```ts
 * const redis = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
 * const pool = new ClientPool<RpcClient>({ breaker: { maxFailures: 3, cooldown: 5_000 }, fleet: new RedisFleet({ redis, key: 'rpc-fleet' }) });
 * ```
 */
export class RedisFleet implements Fleet {
  /** The Redis key of the fleet's hash. */
  readonly key: string;
  /** This process's name in the fleet. */
  readonly id: string;
  readonly quorum: number;
  readonly #redis: RedisScriptClient;
  readonly #syncInterval: number;
  readonly #timeout: number;
  readonly #recheckInterval: number;
  readonly #probeLease: number;
  readonly #proberLease: number;
  readonly #share: Required<FleetShare>;
  readonly #refuseMismatch: boolean;
  readonly #fingerprint: string;
  readonly #clock: Clock;
  #host: FleetHost | undefined;
  #state: RedisFleetState = { mode: 'idle' };
  #timer: NodeJS.Timeout | undefined;
  #isSyncing = false;
  #lastSync = Number.NEGATIVE_INFINITY;
  /** Reports not sent yet, one per client and kind: a later one replaces an earlier (the latest state is what counts). */
  readonly #outbox = new Map<string, Report>();
  #isSending = false;
  /** The outbox slot of the report in flight: pending too, for what a sync may apply meanwhile. */
  #sendingSlot: string | undefined;
  /** What this process's own circuits last did: re-published after an outage. */
  readonly #local = new Map<string, LocalCircuit>();
  /** Clients open fleet-wide, by the local clock time their opening ends. */
  readonly #fleetOpen = new Map<string, number>();
  /** Probe leases this process holds, by the local clock time they end. */
  readonly #leases = new Map<string, number>();
  /** Clients whose lease someone else holds, by the local clock time to ask again. */
  readonly #denied = new Map<string, number>();
  readonly #asking = new Set<string>();
  /** Clients whose health prober and height poller this process is (from the last sync). */
  #probers: { readonly health: ReadonlySet<string>; readonly height: ReadonlySet<string> } = { health: new Set(), height: new Set() };
  /** Clients the last successful sync claimed a prober for. */
  #claimed: ReadonlySet<string> = new Set();
  /** The values of the o:, p: and h: fields last seen, to apply only what changed. */
  readonly #seen = new Map<string, string>();
  /** Fingerprints already warned of. */
  readonly #warned = new Set<string>();
  #syncs = 0;
  #failures = 0;
  #fallbackCount = 0;
  #reports = 0;
  #applied = 0;
  #lastLagMs = Number.NaN;
  #mismatches = 0;
  readonly #fallbacks = new Emitter<FleetFallbackEvent>();
  readonly #recoveries = new Emitter<FleetRecoverEvent>();
  readonly #mismatchEvents = new Emitter<ConfigMismatchError>();
  readonly #applies = new Emitter<FleetApplyEvent>();

  /** Subscribe to switches to the local view. */
  readonly onFallback: Event<FleetFallbackEvent> = this.#fallbacks.event;
  /** Subscribe to returns to the shared view. */
  readonly onRecover: Event<FleetRecoverEvent> = this.#recoveries.event;
  /** Subscribe to another configuration found on the key (a `ConfigMismatchError`, `code` `ERR_CONFIG_MISMATCH`). */
  readonly onMismatch: Event<ConfigMismatchError> = this.#mismatchEvents.event;
  /** Subscribe to what this process applies of other processes' reports. */
  readonly onApply: Event<FleetApplyEvent> = this.#applies.event;

  /** @throws InvalidOptionError for a missing or bad option, naming it. */
  constructor(options: RedisFleetOptions) {
    if (options === undefined) throw new InvalidOptionError('options', 'an options object with redis and key', options);
    optionsObject('options', options);
    knownKeys('options', options, OPTION_KEYS);
    this.#redis = scriptClient(options.redis);
    this.key = nonEmptyString('key', options.key);
    this.quorum = integerAtLeast('quorum', givenOr(options.quorum, 1), 1);
    this.#syncInterval = positiveDuration('syncInterval', givenOr(options.syncInterval, 250));
    this.#timeout = positiveDuration('timeout', givenOr(options.timeout, 200));
    this.#recheckInterval = positiveDuration('recheckInterval', givenOr(options.recheckInterval, 1_000));
    // Whole ms: the scripts store times as integers (a fraction would make a lease unreadable).
    this.#probeLease = Math.ceil(positiveDuration('probeLease', givenOr(options.probeLease, 10_000)));
    this.#proberLease = Math.ceil(positiveDuration('proberLease', givenOr(options.proberLease, 5_000)));
    optionsObject('share', options.share);
    if (options.share !== undefined) knownKeys('share', options.share, SHARE_KEYS);
    const share = options.share ?? {};
    this.#share = { circuits: flag('share.circuits', share.circuits), pauses: flag('share.pauses', share.pauses), health: flag('share.health', share.health), heights: flag('share.heights', share.heights) };
    const mismatch = givenOr(options.onMismatch, 'warn');
    if (mismatch !== 'warn' && mismatch !== 'refuse') throw new InvalidOptionError('onMismatch', "'warn' or 'refuse'", mismatch);
    this.#refuseMismatch = mismatch === 'refuse';
    this.id = options.id === undefined ? defaultId() : processId(options.id);
    this.#clock = clockOption('clock', options.clock) ?? systemClock;
    this.#fingerprint = configFingerprint({ quorum: this.quorum, probeLease: this.#probeLease, proberLease: this.#proberLease, ...prefixed(this.#share) });
  }

  /** Where the fleet stands now. */
  get state(): RedisFleetState {
    return this.#state;
  }

  get stats(): RedisFleetStats {
    return {
      mode: this.#state.mode,
      syncs: this.#syncs,
      failures: this.#failures,
      fallbacks: this.#fallbackCount,
      reports: this.#reports,
      applied: this.#applied,
      // Never below 0, even on a clock that stepped back.
      syncAgeMs: Math.max(0, this.#clock.now() - this.#lastSync),
      lastLagMs: this.#lastLagMs,
      mismatches: this.#mismatches,
    };
  }

  /** Called by the pool. @throws InvalidOptionError when this fleet already serves a pool, or was closed. */
  join(host: FleetHost): FleetSession {
    if (this.#host !== undefined || this.#state.mode === 'closed') throw new InvalidOptionError('fleet', 'a RedisFleet that serves no pool yet (one per pool)', 'a RedisFleet already joined');
    this.#host = host;
    this.#state = { mode: 'redis' };
    this.#schedule(0);
    return {
      opened: (client, ms, trips) => this.#opened(client, ms, trips),
      closed: (client) => this.#closed(client),
      paused: (client, ms) => {
        if (this.#share.pauses && this.#isShared(client)) this.#post({ kind: 'pause', client, value: this.#clock.now() + ms, trips: 0 });
      },
      healthChanged: (client, isDown) => {
        if (this.#share.health && this.#isShared(client)) this.#post({ kind: 'health', client, value: isDown ? 1 : 0, trips: 0 });
      },
      mayProbe: (client) => this.#mayProbe(client),
      mayCheck: (client, probe) => this.#mayCheck(client, probe),
      leave: () => this.#leave(),
    };
  }

  #opened(client: string, ms: number, trips: number): void {
    if (!this.#isShared(client)) return;
    const until = this.#clock.now() + ms;
    this.#local.set(client, { isOpen: true, until, trips });
    this.#leases.delete(client);
    if (this.#share.circuits) this.#post({ kind: 'open', client, value: until, trips });
  }

  #closed(client: string): void {
    if (!this.#isShared(client)) return;
    this.#local.set(client, { isOpen: false, until: 0, trips: 0 });
    this.#leases.delete(client);
    this.#fleetOpen.delete(client);
    if (this.#share.circuits) this.#post({ kind: 'close', client, value: 0, trips: 0 });
  }

  /** Whether `client` can be shared: Redis keeps names as UTF-8, so one with a lone surrogate would come back as another name. */
  #isShared(client: string): boolean {
    if (isShareable(client)) return true;
    if (!this.#warned.has(ILL_FORMED)) {
      this.#warned.add(ILL_FORMED);
      emitWarning(`clientpool: the fleet ${JSON.stringify(this.key)} does not share a client whose name is not well-formed Unicode (a lone surrogate): ${JSON.stringify(client)}`, 'CLIENTPOOL_FLEET_NAME');
    }
    return false;
  }

  /** 0: probe now; else ms to wait for this process's turn. */
  #mayProbe(client: string): number {
    if (this.#state.mode !== 'redis' || !this.#share.circuits) return 0;
    const until = this.#fleetOpen.get(client);
    if (until === undefined) return 0;
    const now = this.#clock.now();
    // The fleet's opening lasts longer than this process's own cooldown.
    if (until > now) return until - now;
    if ((this.#leases.get(client) ?? 0) > now) return 0;
    const denied = this.#denied.get(client) ?? 0;
    if (denied > now) return denied - now;
    if (!this.#asking.has(client)) void this.#askLease(client);
    // The answer rechecks the client sooner.
    return this.#timeout;
  }

  #mayCheck(client: string, probe: 'health' | 'height'): boolean {
    if (this.#state.mode !== 'redis' || !(probe === 'health' ? this.#share.health : this.#share.heights)) return true;
    // A client the fleet has not been asked about yet (new, or before the first sync) is checked here meanwhile.
    return this.#probers[probe].has(client) || !this.#claimed.has(client);
  }

  async #askLease(client: string): Promise<void> {
    this.#asking.add(client);
    try {
      const reply = await this.#report({ kind: 'lease', client, value: 0, trips: 0 });
      if (reply === undefined) return;
      // Closed (or the client removed) while the ask was out: a lease granted now goes back at once.
      if (this.#state.mode === 'closed' || this.#host?.names().includes(client) !== true) {
        if (reply.granted === 1) void this.#release([client]);
        return;
      }
      const now = this.#clock.now();
      // The opening as it stands now: a reopening since the last sync moves its end.
      const open = reply.value === '' ? undefined : parseOpen(reply.value);
      if (open !== undefined) this.#fleetOpen.set(client, now + open.until - reply.now);
      if (reply.granted === 1) this.#leases.set(client, now + reply.waitMs);
      else if (reply.granted === 0) this.#denied.set(client, now + reply.waitMs);
      else this.#fleetOpen.delete(client);
    } finally {
      this.#asking.delete(client);
      this.#host?.recheck(client);
    }
  }

  /** Queue a report; reports go one at a time, in order. */
  #post(report: Report): void {
    if (this.#state.mode === 'closed') return;
    // A verdict or a closing reached while cut off is this process's alone: after the outage the prober's
    // verdicts are the fleet's, and a closing must not undo an opening another process made meanwhile.
    if ((report.kind === 'health' || report.kind === 'close') && this.#state.mode !== 'redis') return;
    const slot = `${report.kind === 'close' ? 'open' : report.kind}\u0000${report.client}`;
    this.#outbox.delete(slot);
    this.#outbox.set(slot, report);
    if (this.#state.mode === 'redis') void this.#send();
  }

  async #send(): Promise<void> {
    if (this.#isSending) return;
    this.#isSending = true;
    try {
      while (this.#state.mode === 'redis' && this.#outbox.size > 0) {
        const [slot, report] = this.#outbox.entries().next().value!;
        this.#outbox.delete(slot);
        this.#sendingSlot = slot;
        // A pause that ended while it waited has nothing left to share.
        if (report.kind === 'pause' && report.value <= this.#clock.now()) continue;
        const reply = await this.#report(report);
        // Redis failed: keep it for the resync (unless a newer one of its kind came meanwhile).
        if (reply === undefined) {
          if (!this.#outbox.has(slot) && report.kind !== 'health') this.#outbox.set(slot, report);
          return;
        }
        if (report.kind === 'open' || report.kind === 'close') this.#afterCircuitReport(report.client, reply);
        else if (report.kind === 'pause') this.#seen.set(`p:${report.client}`, reply.value);
      }
    } finally {
      this.#isSending = false;
      this.#sendingSlot = undefined;
    }
  }

  #afterCircuitReport(client: string, reply: ReportReply): void {
    const field = `o:${client}`;
    if (reply.value === '') {
      this.#seen.delete(field);
      this.#fleetOpen.delete(client);
      return;
    }
    this.#seen.set(field, reply.value);
    this.#fleetOpen.set(client, this.#clock.now() + (parseOpen(reply.value)?.until ?? reply.now) - reply.now);
  }

  /** One report round trip; undefined when Redis failed (the fleet is then on the local view). */
  async #report(report: Report): Promise<ReportReply | undefined> {
    const now = this.#clock.now();
    const ms = report.kind === 'lease' ? this.#probeLease : report.kind === 'health' ? report.value : Math.max(0, Math.round(report.value - now));
    this.#reports++;
    try {
      return await this.#bounded(runReport(this.#redis, this.key, [report.kind, report.client, this.id, ms, report.trips, this.quorum, IDLE_TTL_MS]));
    } catch (error) {
      this.#fail(error);
      return undefined;
    }
  }

  #schedule(ms: number): void {
    if (this.#state.mode === 'closed') return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#sync(), ms);
    this.#timer.unref();
  }

  async #sync(): Promise<void> {
    const host = this.#host;
    if (host === undefined || this.#isSyncing || this.#state.mode === 'closed') return;
    this.#isSyncing = true;
    let reply: SyncReply | undefined;
    let names: readonly string[] = [];
    let claims = false;
    try {
      names = host.names().filter(isShareable);
      this.#forget(new Set(names));
      const args: (string | number)[] = [this.id, this.#fingerprint, this.#proberLease, IDLE_TTL_MS, STALE_OPEN_MS];
      // A process claims to probe for the fleet only what it probes (a pool without health checks must not
      // keep them from every other), and only while it shares (not while refused for a mismatch).
      const isSharing = this.#state.mode === 'redis';
      const health = isSharing && this.#share.health && host.probes.health ? 1 : 0;
      const polls = isSharing && this.#share.heights && host.probes.height ? 1 : 0;
      claims = health + polls > 0;
      for (const name of names) {
        const height = isSharing && this.#share.heights ? host.height(name) : undefined;
        args.push(name, height === undefined ? '' : String(height), health, polls);
      }
      reply = await this.#bounded(runSync(this.#redis, this.key, args));
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#isSyncing = false;
    }
    // Left while the round trip was out.
    if (this.#host === undefined) return;
    if (reply !== undefined) this.#apply(host, names, reply, claims);
    this.#schedule(this.#state.mode === 'redis' ? this.#syncInterval : this.#recheckInterval);
  }

  #apply(host: FleetHost, names: readonly string[], reply: SyncReply, claims: boolean): void {
    if (reply.theirs !== '' && this.#mismatch(reply.theirs)) return;
    const wasDown = this.#state.mode === 'fallback' ? this.#state : undefined;
    this.#syncs++;
    this.#lastSync = this.#clock.now();
    if (wasDown !== undefined) this.#recover(wasDown.since);
    this.#probers = { health: new Set(reply.health), height: new Set(reply.height) };
    const present = new Set(names);
    this.#claimed = claims ? present : new Set();
    const probesHealth = host.probes.health;
    for (const name of names) {
      if (this.#share.circuits) this.#applyOpen(host, name, reply);
      if (this.#share.pauses) this.#applyPause(host, name, reply);
      if (this.#share.health && !this.#probers.health.has(name)) this.#applyHealth(host, name, reply, probesHealth);
      const height = this.#share.heights ? reply.fields.get(`ht:${name}`) : undefined;
      if (height !== undefined) host.reportHeight(name, Number(height.split('|')[0]));
    }
  }

  /**
   * Forget clients the pool no longer has, at every sync (while Redis is down too): memory stays bounded by
   * the pool's clients, nothing is published for a removed one, and its probe lease goes back at once.
   */
  #forget(present: ReadonlySet<string>): void {
    for (const field of this.#seen.keys()) if (!present.has(field.slice(2))) this.#seen.delete(field);
    for (const [slot, report] of this.#outbox) if (!present.has(report.client)) this.#outbox.delete(slot);
    const gone = [...this.#leases.keys()].filter((name) => !present.has(name));
    if (gone.length > 0) void this.#release(gone);
    for (const map of [this.#local, this.#fleetOpen, this.#leases, this.#denied]) for (const name of map.keys()) if (!present.has(name)) map.delete(name);
  }

  /** Give probe leases back (bounded round trips, not waited for by anyone but `leave()`). */
  #release(clients: readonly string[]): Promise<unknown> {
    for (const client of clients) this.#leases.delete(client);
    return Promise.all(clients.map((client) => this.#bounded(runReport(this.#redis, this.key, ['release', client, this.id, 0, 0, this.quorum, IDLE_TTL_MS])).catch(() => undefined)));
  }

  #applyOpen(host: FleetHost, name: string, reply: SyncReply): void {
    const field = `o:${name}`;
    const value = reply.fields.get(field);
    const seen = this.#seen.get(field);
    // A report of ours still to go would be undone by applying the fleet's older view.
    const slot = `open\u0000${name}`;
    const isPending = this.#outbox.has(slot) || this.#sendingSlot === slot;
    if (value === undefined) {
      if (seen === undefined) return;
      this.#seen.delete(field);
      this.#fleetOpen.delete(name);
      this.#leases.delete(name);
      this.#denied.delete(name);
      if (!isPending) this.#applied1(name, 'close', Number.NaN, () => host.closeCircuit(name));
      return;
    }
    const open = parseOpen(value);
    if (open === undefined) return;
    this.#fleetOpen.set(name, this.#clock.now() + open.until - reply.now);
    // The lease that kept this process waiting went back (its holder closed, or dropped the client): ask now.
    if (this.#denied.has(name) && !reply.fields.has(`l:${name}`)) {
      this.#denied.delete(name);
      host.recheck(name);
    }
    if (value === seen || isPending) return;
    this.#seen.set(field, value);
    this.#applied1(name, 'open', reply.now - open.at, () => host.openCircuit(name, Math.max(0, open.until - reply.now), open.trips));
  }

  #applyPause(host: FleetHost, name: string, reply: SyncReply): void {
    const field = `p:${name}`;
    const value = reply.fields.get(field);
    if (value === undefined || value === this.#seen.get(field)) return;
    this.#seen.set(field, value);
    const [until, at] = value.split('|').map(Number);
    if (until! > reply.now) this.#applied1(name, 'pause', reply.now - at!, () => host.pause(name, until! - reply.now));
  }

  #applyHealth(host: FleetHost, name: string, reply: SyncReply, probesHealth: boolean): void {
    const field = `h:${name}`;
    const value = reply.fields.get(field);
    const seen = this.#seen.get(field);
    if (value === undefined && seen !== undefined) {
      // Nobody probes it for the fleet any more: a pool that cannot check it itself does not keep the
      // last verdict forever (one with health checks takes the prober over, and its checks decide).
      this.#seen.delete(field);
      if (!probesHealth && seen.startsWith('1|')) this.#applied1(name, 'up', Number.NaN, () => host.setDown(name, false));
      return;
    }
    if (value === undefined || value === seen) return;
    this.#seen.set(field, value);
    const [down, at] = value.split('|').map(Number);
    this.#applied1(name, down === 1 ? 'down' : 'up', reply.now - at!, () => host.setDown(name, down === 1));
  }

  #applied1(client: string, kind: FleetApplyEvent['kind'], lagMs: number, apply: () => void): void {
    apply();
    this.#applied++;
    if (Number.isFinite(lagMs)) this.#lastLagMs = Math.max(0, lagMs);
    if (this.#applies.hasListeners) this.#applies.emit({ client, kind, lagMs: Math.max(0, lagMs) });
  }

  /** Another configuration on the key: reported; under 'refuse', the sync counts as failed. True when refused. */
  #mismatch(theirs: string): boolean {
    this.#mismatches++;
    const error = new ConfigMismatchError(this.key, this.#fingerprint, theirs);
    if (!this.#warned.has(theirs) && this.#warned.size < MAX_WARNED) {
      this.#warned.add(theirs);
      emitWarning(`clientpool: ${error.message}`, 'CLIENTPOOL_CONFIG_MISMATCH');
    }
    if (this.#mismatchEvents.hasListeners) this.#mismatchEvents.emit(error);
    if (!this.#refuseMismatch) return false;
    this.#fail(error);
    return true;
  }

  #fail(error: unknown): void {
    this.#failures++;
    if (this.#state.mode !== 'redis') return;
    const cause = error instanceof Error ? error : new Error(String(error));
    this.#state = { mode: 'fallback', since: this.#clock.now(), cause };
    this.#fallbackCount++;
    // The local view at once: nobody waits for a lease or a prober that Redis cannot grant.
    const held = [...this.#fleetOpen.keys()];
    this.#fleetOpen.clear();
    this.#denied.clear();
    this.#leases.clear();
    // What Redis held may be gone when it answers again (a restart): an opening missing then is no closing.
    this.#seen.clear();
    for (const client of held) this.#host?.recheck(client);
    if (this.#fallbacks.hasListeners) this.#fallbacks.emit({ key: this.key, cause });
    this.#schedule(this.#recheckInterval);
  }

  /**
   * Back on Redis: what this process holds open goes out again (a restarted Redis has forgotten it).
   * Only openings: a closing seen alone while cut off must not undo an opening another process made
   * meanwhile (failures are the side to err on); a closing still in the outbox goes as it is.
   */
  #recover(since: number): void {
    this.#state = { mode: 'redis' };
    const now = this.#clock.now();
    for (const [client, circuit] of this.#local) {
      if (!this.#share.circuits) break;
      if (circuit.isOpen && circuit.until > now) this.#post({ kind: 'open', client, value: circuit.until, trips: circuit.trips });
    }
    if (this.#recoveries.hasListeners) this.#recoveries.emit({ key: this.key, downMs: now - since });
    void this.#send();
  }

  async #leave(): Promise<void> {
    if (this.#state.mode === 'closed') return;
    const wasSharing = this.#state.mode === 'redis';
    this.#state = { mode: 'closed' };
    this.#host = undefined;
    clearTimeout(this.#timer);
    this.#outbox.clear();
    // Probe leases held here go back at once, so that another process need not wait them out.
    const leases = [...this.#leases.keys()];
    this.#leases.clear();
    if (wasSharing) await this.#release(leases);
    this.#fallbacks.clear();
    this.#recoveries.clear();
    this.#mismatchEvents.clear();
    this.#applies.clear();
  }

  /** A round trip raced with `timeout`; the timer goes when it settles. */
  #bounded<R>(pending: Promise<R>): Promise<R> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(this.#timeout, `redis fleet ${this.key}`)), this.#timeout);
      // A round trip keeps no process alive: its caller (a sync, a report) is not waited for either.
      timer.unref();
    });
    return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
  }
}

/** Whether a name survives Redis's UTF-8 unchanged: no lone surrogate. */
function isShareable(name: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name);
}

function parseOpen(value: string): { until: number; trips: number; at: number } | undefined {
  const [until, trips, at] = value.split('|').map(Number);
  return Number.isFinite(until) && Number.isFinite(trips) && Number.isFinite(at) ? { until: until!, trips: trips!, at: at! } : undefined;
}

function flag(option: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, 'a boolean', value);
  return value;
}

function prefixed(share: Required<FleetShare>): Record<string, boolean> {
  return { 'share.circuits': share.circuits, 'share.pauses': share.pauses, 'share.health': share.health, 'share.heights': share.heights };
}

function processId(value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) throw new InvalidOptionError('id', 'a name of 1 to 128 letters, digits or ._:@/-', value);
  return value;
}

function defaultId(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64) || 'host';
  return `${host}:${process.pid}:${randomBytes(4).toString('hex')}`;
}
