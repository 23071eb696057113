import { PeriodicProbe } from '../health/periodic-probe.js';
import type { Member } from '../member.js';
import type { Roster } from '../roster.js';
import { heightValue, type HeightPoll } from './freshness-options.js';
import type { HeightTracker } from './height-tracker.js';
import { membersProbed } from '../health/members-probed.js';

/**
 * The poll of every client's height (`freshness.height`), every `interval`, each bounded by `timeout`:
 * a height it answers goes to the tracker; an answer that is no height is reported through `warn`; a
 * poll that fails leaves the height as it was, and {@link STALE_AFTER_FAILURES} in a row make it unknown: a
 * height nobody refreshes must not hold the head (a client that stops answering is otherwise the
 * breaker's and the health checks' business). A failing poll is reported once per pool through `warn`.
 */
/** Polls in a row that fail before a client's height counts as unknown. */
export const STALE_AFTER_FAILURES = 3;

export function rosterHeights<T>(poll: HeightPoll<T>, roster: Roster<T>, probed: ((member: Member<T>) => boolean) | undefined, heights: HeightTracker<T>, warn: (what: string, error: unknown) => void): PeriodicProbe<Member<T>> {
  const failures = new WeakMap<Member<T>, number>();
  return new PeriodicProbe<Member<T>>(poll.interval, poll.timeout, {
    members: () => membersProbed(roster, probed),
    probe: (member, signal) => poll.height(member.client, signal),
    onResult: (member, result) => {
      // An answer that is no height is a failed poll too: it refreshes nothing.
      const height = result.ok ? heightValue('freshness.height', result.value) : result.error;
      if (typeof height === 'number') {
        failures.delete(member);
        heights.report(member, height);
        return;
      }
      warn('freshness.height', height);
      const failed = (failures.get(member) ?? 0) + 1;
      failures.set(member, failed);
      if (failed >= STALE_AFTER_FAILURES) heights.report(member, -1);
    },
  });
}
