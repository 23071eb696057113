import type { CircuitState } from '../breaker/breaker.js';
import { CallbackError, ClientPoolError, InvalidOptionError } from '../errors.js';
import type { Emitter } from '../events.js';
import type { Member } from '../member.js';
import type { PoolCore } from '../pipeline/pool-core.js';
import type { HealthChange } from '../pool-events.js';
import type { Roster } from '../roster.js';
import { onRejected } from '../pipeline/guard.js';
import { MAX_DURATION_MS } from '../validate.js';
import type { Fleet, FleetHost, FleetSession } from './fleet.js';

/** What the bridge reaches of the pool. */
export interface FleetParts<T> {
  readonly roster: Roster<T>;
  readonly core: PoolCore<T>;
  readonly healthChanges: Emitter<HealthChange>;
  warn(what: string, error: unknown): void;
}

/**
 * The pool's side of a {@link Fleet}: tells the link what happened here (local transitions, pauses,
 * health changes), applies what it reports from other processes, and asks it whether this process may
 * probe a client. What the link applies is not told back to it (`#isApplying`), so nothing echoes. Every
 * call into the link is guarded: a link that throws is reported and answers as if there were no fleet.
 */
export class FleetBridge<T> {
  readonly #fleet: Fleet;
  readonly #parts: FleetParts<T>;
  #session: FleetSession | undefined;
  /** The link is applying what another process saw: the transitions it causes are not reported back. */
  #isApplying = false;

  private constructor(fleet: Fleet, parts: FleetParts<T>) {
    this.#fleet = fleet;
    this.#parts = parts;
  }

  /** The bridge for the pool's `fleet` option, or undefined without one. @throws InvalidOptionError for anything but a Fleet. */
  static of<T>(option: unknown, parts: FleetParts<T>): FleetBridge<T> | undefined {
    if (option === undefined) return undefined;
    if (typeof option !== 'object' || option === null || typeof (option as Partial<Fleet>).join !== 'function') {
      throw new InvalidOptionError('fleet', 'a Fleet: an object with join(pool), such as a RedisFleet (clientpool/redis)', option);
    }
    return new FleetBridge(option as Fleet, parts);
  }

  /** Join the fleet: last in the pool's constructor, so that nothing runs if an option was refused. */
  join(probes: FleetHost['probes']): void {
    try {
      this.#session = this.#fleet.join(this.#host(probes));
    } catch (error) {
      // A refusal of ours (a fleet already serving a pool) says so itself; anything else is the link's fault.
      if (error instanceof ClientPoolError) throw error;
      throw new CallbackError("the fleet's join()", 'threw', error);
    }
    if (typeof this.#session !== 'object' || this.#session === null) throw new CallbackError("the fleet's join()", 'returned no session', this.#session);
    this.#parts.roster.probeGate = (member) => this.#probeGate(member);
  }

  /** A circuit transition here: an opening or a closing the link did not cause is told to it. */
  transition(client: string, from: CircuitState, to: CircuitState): void {
    if (this.#isApplying || this.#session === undefined) return;
    if (to.kind === 'open' && from.kind !== 'open') {
      const ms = Math.max(0, to.until - this.#parts.core.clock.now());
      this.#tell('opened()', (session) => session.opened(client, ms, to.trips));
    } else if (to.kind === 'closed' && from.kind === 'half-open') {
      this.#tell('closed()', (session) => session.closed(client));
    }
  }

  paused(client: string, ms: number): void {
    if (!this.#isApplying) this.#tell('paused()', (session) => session.paused(client, ms));
  }

  healthChanged(client: string, isDown: boolean): void {
    if (!this.#isApplying) this.#tell('healthChanged()', (session) => session.healthChanged(client, isDown));
  }

  /** Whether this process probes `client`'s health and height; yes while the link cannot say. */
  mayCheck(client: string, probe: 'health' | 'height'): boolean {
    const session = this.#session;
    if (session === undefined) return true;
    try {
      // Only a plain no keeps this process from probing: an answer that is no boolean is a yes.
      const answer: unknown = session.mayCheck(client, probe);
      this.#adopt("the fleet's mayCheck()", answer);
      return answer !== false;
    } catch (error) {
      this.#parts.warn("the fleet's mayCheck()", error);
      return true;
    }
  }

  /** Leave the fleet (the pool is closing); a link that fails to is reported, and the pool closes anyway. */
  async leave(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    this.#parts.roster.probeGate = undefined;
    await session?.leave();
  }

  /** Milliseconds `member` waits before it may be probed here; 0 when it may now (or the link cannot say). */
  #probeGate(member: Member<T>): number {
    const session = this.#session;
    if (session === undefined) return 0;
    let wait: unknown;
    try {
      wait = session.mayProbe(member.name);
    } catch (error) {
      this.#parts.warn("the fleet's mayProbe()", error);
      return 0;
    }
    this.#adopt("the fleet's mayProbe()", wait);
    if (typeof wait !== 'number' || !(wait > 0)) return 0;
    return Math.min(wait, MAX_DURATION_MS);
  }

  #tell(what: string, tell: (session: FleetSession) => unknown): void {
    const session = this.#session;
    if (session === undefined) return;
    try {
      this.#adopt(`the fleet's ${what}`, tell(session));
    } catch (error) {
      this.#parts.warn(`the fleet's ${what}`, error);
    }
  }

  /** An `async` method of the link is not waited for; its rejection is reported as a throw is, never left unhandled. */
  #adopt(what: string, result: unknown): void {
    onRejected(result, (error) => this.#parts.warn(what, error));
  }

  #apply(client: string, apply: (member: Member<T>) => void): void {
    const member = this.#parts.roster.byName.get(client);
    if (member === undefined || member.placement === 'gone') return;
    this.#isApplying = true;
    try {
      apply(member);
    } finally {
      this.#isApplying = false;
    }
  }

  #host(probes: FleetHost['probes']): FleetHost {
    const { roster, core, healthChanges } = this.#parts;
    const ms = (value: number): number => (value > 0 ? Math.min(value, MAX_DURATION_MS) : 0);
    return {
      names: () => Array.from(roster.byName.keys()),
      probes: Object.freeze({ ...probes }),
      openCircuit: (client, wait, trips = 1) =>
        this.#apply(client, (member) => {
          if (member.breaker.trip === undefined) return;
          member.breaker.trip(ms(wait), Math.max(1, Math.floor(trips) || 1));
          roster.afterBreaker(member);
        }),
      closeCircuit: (client) =>
        this.#apply(client, (member) => {
          if (member.breaker.reset === undefined || member.breaker.state.kind === 'closed') return;
          member.breaker.reset();
          roster.afterBreaker(member);
        }),
      pause: (client, wait) => this.#apply(client, (member) => core.pause(member, ms(wait))),
      setDown: (client, isDown) =>
        this.#apply(client, (member) => {
          if (member.isDown === isDown) return;
          roster.setDown(member, isDown);
          if (healthChanges.hasListeners) healthChanges.emit({ client, isDown });
        }),
      height: (client) => {
        const height = roster.byName.get(client)?.height ?? -1;
        return height < 0 ? undefined : height;
      },
      reportHeight: (client, height) =>
        this.#apply(client, (member) => {
          if (Number.isSafeInteger(height) && height > member.height) core.heights.report(member, height);
        }),
      recheck: (client) => this.#apply(client, (member) => roster.place(member)),
      warn: (what, error) => this.#parts.warn(what, error),
    };
  }
}
