// The deadline queue's per-delay FIFO lists after 2680441: a list with only its head leaves `tail`
// undefined, and `add` appends after `tail ?? head`. Probed directly (as test/pipeline/deadlines.test.ts
// does): removing the head, a middle entry, the last and the only one; a clock stepping back with entries
// queued, then more added; expiries that add and remove entries; and a model-based property.
import { install } from '@sinonjs/fake-timers';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeadlineQueue, type DeadlineList, type Timed } from '../../../src/pipeline/deadlines.js';

interface Entry extends Timed {
  readonly name: string;
}

function entry(expired: string[], name: string, onExpire?: () => void): Entry {
  return {
    name,
    deadline: 0,
    deadlineList: undefined as DeadlineList | undefined,
    deadlinePrev: undefined,
    deadlineNext: undefined,
    expire: () => {
      expired.push(name);
      onExpire?.();
    },
  };
}

/** The names of a list, walked forwards from its head; and checked backwards from its last entry (`tail ?? head`). */
function walk(list: DeadlineList): string[] {
  const forwards: string[] = [];
  let last: Timed | undefined;
  for (let e = list.head; e !== undefined; e = e.deadlineNext) {
    expect(e.deadlineList).toBe(list);
    expect(e.deadlinePrev).toBe(last);
    forwards.push((e as Entry).name);
    last = e;
    if (forwards.length > 10_000) throw new Error('cycle');
  }
  // Whatever the commit keeps in `tail`, the entry `add` appends after must be the real last one.
  expect(list.tail ?? list.head).toBe(last);
  if (list.tail !== undefined) expect(list.tail.deadlineNext).toBeUndefined();
  return forwards;
}

type InstalledClock = ReturnType<typeof install>;

/** The pool clock: the fake timers' own time plus an offset a test moves (`time = x` steps it, back or on). */
class TimerClock {
  offset = 0;
  constructor(readonly fake: InstalledClock) {}
  now(): number {
    return this.fake.now + this.offset;
  }
  get time(): number {
    return this.now();
  }
  set time(value: number) {
    this.offset += value - this.now();
  }
}

let timers: InstalledClock;
let clock: TimerClock;

beforeEach(() => {
  timers = install({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
  clock = new TimerClock(timers);
});

afterEach(() => {
  timers.uninstall();
});

/** Moves the pool clock and the timers together (no stall). */
function tick(ms: number): void {
  timers.tick(ms);
}

describe('a delay list with one, two and three entries: removing any of them keeps it a FIFO that appends at the end', () => {
  const shapes: readonly { readonly size: number; readonly remove: readonly number[] }[] = [
    { size: 1, remove: [0] },
    { size: 2, remove: [0] },
    { size: 2, remove: [1] },
    { size: 2, remove: [0, 1] },
    { size: 2, remove: [1, 0] },
    { size: 3, remove: [0] },
    { size: 3, remove: [1] },
    { size: 3, remove: [2] },
    { size: 3, remove: [2, 1] },
    { size: 3, remove: [1, 2] },
    { size: 3, remove: [0, 2] },
    { size: 3, remove: [2, 0] },
    { size: 3, remove: [0, 1, 2] },
    { size: 3, remove: [2, 1, 0] },
  ];
  for (const { size, remove } of shapes) {
    it(`${size} entries, removing #${remove.join(', #')}, then two more added: the rest and the new ones expire in order, once each`, () => {
      const queue = new DeadlineQueue(clock);
      const expired: string[] = [];
      const entries = Array.from({ length: size }, (_, i) => entry(expired, `e${i}`));
      for (const e of entries) queue.add(e, 100);
      const list = entries[0]!.deadlineList!;
      expect(walk(list)).toEqual(entries.map((e) => e.name));
      for (const i of remove) {
        queue.remove(entries[i]!);
        expect(entries[i]!.deadlineList).toBeUndefined();
        walk(list);
      }
      const kept = entries.filter((_, i) => !remove.includes(i)).map((e) => e.name);
      expect(walk(list)).toEqual(kept);
      const later = [entry(expired, 'n0'), entry(expired, 'n1')];
      for (const e of later) queue.add(e, 100);
      expect(walk(later[0]!.deadlineList!)).toEqual([...kept, 'n0', 'n1']);
      expect(queue.size).toBe(kept.length + 2);
      tick(100);
      expect(expired).toEqual([...kept, 'n0', 'n1']);
      expect(queue.size).toBe(0);
      queue.clear();
    });
  }

  it('a list emptied by removal and refilled one at a time: each new only entry is the one that expires', () => {
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    for (let i = 0; i < 5; i++) {
      const a = entry(expired, `a${i}`);
      const b = entry(expired, `b${i}`);
      queue.add(a, 50);
      queue.add(b, 50);
      queue.remove(b);
      // The list has only its head now, with whatever `tail` removal left: the next add must follow `a`.
      const c = entry(expired, `c${i}`);
      queue.add(c, 50);
      expect(walk(a.deadlineList!)).toEqual([`a${i}`, `c${i}`]);
      queue.remove(a);
      queue.remove(c);
      expect(queue.size).toBe(0);
    }
    const last = entry(expired, 'last');
    queue.add(last, 50);
    tick(50);
    expect(expired).toEqual(['last']);
  });

  it('removing an entry twice, or one never queued, changes nothing', () => {
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    const a = entry(expired, 'a');
    const b = entry(expired, 'b');
    queue.add(a, 10);
    queue.remove(a);
    queue.remove(a);
    queue.remove(entry(expired, 'stranger'));
    queue.add(b, 10);
    expect(queue.size).toBe(1);
    expect(walk(b.deadlineList!)).toEqual(['b']);
    tick(10);
    expect(expired).toEqual(['b']);
  });
});

describe('a clock that steps back while entries are queued', () => {
  it('entries queued before the step keep the time they had left, and ones added after it join the same list behind them', () => {
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    clock.time = 1_000;
    queue.add(entry(expired, 'before'), 100); // due at 1100
    clock.time = 500; // stepped back 500 ms
    const after = entry(expired, 'after');
    queue.add(after, 100); // due at 600: 'before' moved to 600 too
    expect(walk(after.deadlineList!)).toEqual(['before', 'after']);
    tick(99);
    expect(expired).toEqual([]);
    tick(1);
    expect(expired).toEqual(['before', 'after']);
  });

  it('a step back with only a head queued, then a removal and an add: the list stays whole', () => {
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    clock.time = 100;
    const a = entry(expired, 'a');
    queue.add(a, 30);
    clock.time = 40;
    const b = entry(expired, 'b');
    queue.add(b, 30);
    queue.remove(a);
    const c = entry(expired, 'c');
    queue.add(c, 30);
    expect(walk(b.deadlineList!)).toEqual(['b', 'c']);
    tick(30);
    expect(expired).toEqual(['b', 'c']);
  });
});

describe('expiries that add and remove entries', () => {
  it('an expiry that adds to its own delay, and removes the next due entry, neither loses nor doubles one', () => {
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    const victim = entry(expired, 'victim');
    const first = entry(expired, 'first', () => {
      queue.add(entry(expired, 'added-by-first'), 20);
      queue.remove(victim);
    });
    queue.add(first, 20);
    queue.add(victim, 20);
    const survivor = entry(expired, 'survivor');
    queue.add(survivor, 20);
    tick(20);
    // 'victim' and 'survivor' were already taken out as due with 'first': the removal of a due entry cancels its expiry.
    expect(expired).toEqual(['first', 'survivor']);
    tick(20);
    expect(expired).toEqual(['first', 'survivor', 'added-by-first']);
    expect(queue.size).toBe(0);
  });
});

type Op = { readonly kind: 'add'; readonly delay: number } | { readonly kind: 'remove'; readonly pick: number } | { readonly kind: 'tick'; readonly ms: number } | { readonly kind: 'back'; readonly ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), delay: fc.constantFrom(0, 1, 5, 10, 10, 10, 25) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat(1_000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('back' as const), ms: fc.integer({ min: 1, max: 30 }) }) },
);

describe('as a property: against a model of per-delay FIFO lists', () => {
  it('every list stays linked both ways with `tail ?? head` its last entry; each entry expires once, never early, none removed expires', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const t = install({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
        try {
          const manual = new TimerClock(t);
          manual.time = 1_000;
          const queue = new DeadlineQueue(manual);
          const expired: string[] = [];
          // Model: the time each queued entry has left, in add order per delay.
          const live = new Map<string, { entry: Entry; left: number; delay: number }>();
          const removed = new Set<string>();
          let n = 0;
          const check = (): void => {
            const lists = new Set<DeadlineList>();
            for (const { entry: e } of live.values()) lists.add(e.deadlineList!);
            for (const list of lists) {
              const names = walk(list);
              const delay = live.get(names[0]!)!.delay;
              const expected = [...live.values()].filter((v) => v.delay === delay).map((v) => v.entry.name);
              expect(names).toEqual(expected);
            }
            expect(queue.size).toBe(live.size);
          };
          for (const op of ops) {
            if (op.kind === 'add') {
              const e = entry(expired, `e${n++}`);
              queue.add(e, op.delay);
              live.set(e.name, { entry: e, left: op.delay, delay: op.delay });
            } else if (op.kind === 'remove') {
              const names = [...live.keys()];
              if (names.length === 0) continue;
              const name = names[op.pick % names.length]!;
              queue.remove(live.get(name)!.entry);
              live.delete(name);
              removed.add(name);
            } else if (op.kind === 'back') {
              manual.time -= op.ms;
              // Read at once (as a call's deadline read would): a step the queue never saw cannot be undone.
              queue.now();
            } else {
              const before = expired.length;
              t.tick(op.ms);
              // Read after each step of time, as a stream of calls would: a later step back is then seen whole
              // (one seen only in part is odd-clocks.test.ts's business).
              queue.now();
              for (const name of expired.slice(before)) expect(live.has(name)).toBe(true);
              for (const v of live.values()) v.left -= op.ms;
              for (const name of [...live.keys()]) {
                const v = live.get(name)!;
                if (expired.includes(name)) {
                  // Never early: the time it had left was used up.
                  expect(v.left).toBeLessThanOrEqual(0);
                  live.delete(name);
                }
              }
              // Never late: whatever had no time left has expired.
              for (const v of live.values()) expect(v.left).toBeGreaterThan(0);
            }
            check();
          }
          for (const name of removed) expect(expired).not.toContain(name);
          expect(new Set(expired).size).toBe(expired.length);
          queue.clear();
        } finally {
          t.uninstall();
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
