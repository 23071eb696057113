import type { Member } from '../member.js';
import type { Roster } from '../roster.js';
import { HealthChecker, type HealthCheckOptions } from './health-checker.js';
import { membersProbed } from './members-probed.js';

/** Health checks over a pool's members (those `probed` says, all by default): a failing client goes out of the rotation, `onChange` hears of it. */
export function rosterHealth<T>(options: HealthCheckOptions<T>, roster: Roster<T>, probed: ((member: Member<T>) => boolean) | undefined, onChange: (client: string, isDown: boolean) => void): HealthChecker<T, Member<T>> {
  return new HealthChecker<T, Member<T>>(options, {
    members: () => membersProbed(roster, probed),
    clientOf: (member) => member.client,
    isDown: (member) => member.isDown,
    setDown: (member, isDown) => {
      roster.setDown(member, isDown);
      onChange(member.name, isDown);
    },
  });
}
