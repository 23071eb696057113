import type { Member } from '../member.js';

/**
 * The clients a quorum read has taken: the `tried` list of its attempt group, which the pick stage appends
 * to and the roster reads as a strict avoid list (`isStrict`: never give one of them again). Membership is
 * kept in a set as well, so that picking the n-th of up to 1000 distinct clients with a balancer that keeps
 * proposing taken ones costs O(ready clients), not O(ready x taken).
 */
export class DistinctClients<T> extends Array<Member<T>> {
  /** Methods that make a new array (`map`, `filter`) make a plain one, not another list with an empty set. */
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  readonly isStrict = true;
  readonly #taken = new Set<Member<T>>();

  override push(...members: Member<T>[]): number {
    for (const member of members) this.#taken.add(member);
    return super.push(...members);
  }

  override includes(member: Member<T>): boolean {
    return this.#taken.has(member);
  }
}
