import type { Emitter } from './events.js';
import type { HeightPoll } from './freshness/freshness-options.js';
import type { HeightTracker } from './freshness/height-tracker.js';
import { rosterHeights } from './freshness/roster-heights.js';
import type { HealthCheckOptions } from './health/health-checker.js';
import { rosterHealth } from './health/roster-health.js';
import type { HealthChange } from './pool-events.js';
import type { Roster } from './roster.js';
import type { FleetBridge } from './fleet/fleet-bridge.js';
import type { Member } from './member.js';

/** What a pool polls its clients for: health checks and heights, started and stopped together. */
export class PoolProbes<T> {
  readonly #health: ReturnType<typeof rosterHealth<T>> | undefined;
  readonly #heights: ReturnType<typeof rosterHeights<T>> | undefined;

  constructor(
    health: HealthCheckOptions<T> | undefined,
    heightPoll: HeightPoll<T> | undefined,
    parts: { readonly roster: Roster<T>; readonly heights: HeightTracker<T>; readonly healthChanges: Emitter<HealthChange>; readonly fleet: FleetBridge<T> | undefined; warn(what: string, error: unknown): void },
  ) {
    const { roster, healthChanges, fleet } = parts;
    // In a fleet, one process probes each client and shares what it finds (docs/fleet.md).
    const probed = (probe: 'health' | 'height') => (fleet === undefined ? undefined : (member: Member<T>): boolean => fleet.mayCheck(member.name, probe));
    if (health !== undefined) {
      this.#health = rosterHealth(health, roster, probed('health'), (client, isDown) => {
        fleet?.healthChanged(client, isDown);
        if (healthChanges.hasListeners) healthChanges.emit({ client, isDown });
      });
    }
    if (heightPoll !== undefined) this.#heights = rosterHeights(heightPoll, roster, probed('height'), parts.heights, (what, error) => parts.warn(what, error));
    if (this.#health === undefined && this.#heights === undefined) return;
    roster.onMembership = (member, joined) => {
      // A newcomer's height is known before its turn (a node far behind must not serve until the next round).
      if (joined) this.#heights?.runNow(member);
      else {
        this.#health?.forget(member);
        this.#heights?.forget(member);
      }
    };
  }

  /** Which probes run: a fleet shares only those (docs/fleet.md). */
  get kinds(): { readonly health: boolean; readonly height: boolean } {
    return { health: this.#health !== undefined, height: this.#heights !== undefined };
  }

  start(): void {
    this.#health?.start();
    this.#heights?.start();
  }

  stop(): void {
    this.#health?.stop();
    this.#heights?.stop();
  }

  /** One round of health checks now. */
  checkHealth(): Promise<void> {
    return this.#health?.checkAll() ?? Promise.resolve();
  }
}
