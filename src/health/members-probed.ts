import type { Member } from '../member.js';
import type { Roster } from '../roster.js';

/** The members a periodic probe runs on this round: all of them, or those `probed` picks (a fleet's share). */
export function membersProbed<T>(roster: Roster<T>, probed: ((member: Member<T>) => boolean) | undefined): Iterable<Member<T>> {
  const all = roster.byName.values();
  return probed === undefined ? all : Array.from(all).filter(probed);
}
