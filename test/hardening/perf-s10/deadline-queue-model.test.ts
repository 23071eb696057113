import { install } from '@sinonjs/fake-timers';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeadlineQueue, type DeadlineList, type Timed } from '../../../src/pipeline/deadlines.js';

interface Handle {
  hasRef(): boolean;
}

let timers: ReturnType<typeof install>;
/** Timer handles the queue holds that have neither fired nor been cleared. */
let live: Set<Handle>;

beforeEach(() => {
  timers = install({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
  live = new Set();
  // Watch the timers the queue sets (it reads the global at each call), to see which keep the process alive.
  const fakeSet = globalThis.setTimeout;
  const fakeClear = globalThis.clearTimeout;
  globalThis.setTimeout = ((callback: () => void, ms?: number) => {
    const handle: Handle = fakeSet(() => {
      live.delete(handle);
      callback();
    }, ms);
    live.add(handle);
    return handle;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((handle: Handle) => {
    live.delete(handle);
    fakeClear(handle as never);
  }) as typeof clearTimeout;
});

afterEach(() => {
  timers.uninstall();
});

interface Entry extends Timed {
  readonly id: number;
  readonly addedAt: number;
  readonly delay: number;
  expiredAt: number[];
  removed: boolean;
}

type Command =
  | { readonly op: 'add'; readonly delay: number }
  | { readonly op: 'remove'; readonly pick: number }
  | { readonly op: 'tick'; readonly ms: number }
  | { readonly op: 'turn' }
  | { readonly op: 'stepBack'; readonly ms: number };

const delays = fc.oneof(fc.constantFrom(0, 1, 5, 10, 100, 250), fc.integer({ min: 0, max: 1_000 }));
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), delay: delays }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'turn' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('stepBack' as const), ms: fc.integer({ min: 1, max: 500 }) }) },
);

// The queue keeps one timer, per-delay lists and a cached last list (#lastList), and lets the timer go
// (unref) only once the loop turned with nothing queued. Against a model: every entry not removed expires
// once, when its delay has passed by the timers' time (a clock stepping back keeps each one's time left);
// a removed one never does; while anything is queued its timer keeps the process alive, and once the loop
// turned with nothing queued no timer of the queue does.
describe('the deadline queue against a model', () => {
  it('expiries, removals and the timer\'s ref follow the model over random adds, removes, ticks and steps back', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 80 }), (commands) => {
        timers.reset();
        live.clear();
        let offset = 0;
        const queue = new DeadlineQueue({ now: () => timers.now - offset });
        const entries: Entry[] = [];
        const queued = (): Entry[] => entries.filter((e) => !e.removed && e.expiredAt.length === 0);
        const checkRef = (): void => {
          if (queued().length > 0) expect([...live].some((h) => h.hasRef())).toBe(true);
        };
        for (const c of commands) {
          if (c.op === 'add') {
            const e: Entry = {
              id: entries.length,
              addedAt: timers.now,
              delay: c.delay,
              expiredAt: [],
              removed: false,
              deadline: 0,
              deadlineList: undefined as DeadlineList | undefined,
              deadlinePrev: undefined,
              deadlineNext: undefined,
              expire: () => e.expiredAt.push(timers.now),
            };
            entries.push(e);
            queue.add(e, c.delay);
          } else if (c.op === 'remove') {
            const open = queued();
            if (open.length === 0) continue;
            const e = open[c.pick % open.length]!;
            e.removed = true;
            queue.remove(e);
          } else if (c.op === 'tick') {
            timers.tick(c.ms);
          } else if (c.op === 'turn') {
            timers.tick(0);
            if (queued().length === 0) expect([...live].filter((h) => h.hasRef())).toEqual([]);
          } else {
            // Read just before and after the step (the pool reads its clock on every timed call): what
            // the clock did between two readings is all the queue can see.
            queue.now();
            offset += c.ms;
            queue.now();
          }
          checkRef();
          expect(queue.size).toBe(queued().length);
        }
        // Run everything out.
        timers.tick(2_000);
        for (const e of entries) {
          if (e.removed) continue;
          expect(e.expiredAt).toHaveLength(1);
          const at = e.expiredAt[0]!;
          expect(at).toBeGreaterThanOrEqual(e.addedAt + e.delay);
          expect(at).toBeLessThanOrEqual(e.addedAt + e.delay + 1);
        }
        expect(queue.size).toBe(0);
        timers.tick(0);
        expect([...live].filter((h) => h.hasRef())).toEqual([]);
        queue.clear();
        expect(timers.countTimers()).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
