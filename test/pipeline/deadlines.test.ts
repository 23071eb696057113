import { install } from '@sinonjs/fake-timers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { DeadlineQueue, type DeadlineList, type Timed } from '../../src/pipeline/deadlines.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';

/** An entry that records when it expired. */
function entry(expired: string[], name: string): Timed {
  return {
    deadline: 0,
    deadlineList: undefined as DeadlineList | undefined,
    deadlinePrev: undefined,
    deadlineNext: undefined,
    expire: () => expired.push(name),
  };
}

let timers: ReturnType<typeof install>;
let clock: ManualClock;

beforeEach(() => {
  // Timers are faked, the pool clock is moved by hand: a stall is the clock running ahead of the timers.
  timers = install({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
  clock = new ManualClock();
});

afterEach(() => {
  timers.uninstall();
});

describe('the deadline queue', () => {
  it('expires a deadline in its timer\'s own turn when the timer is on time', () => {
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    queue.add(entry(expired, 'a'), 100);
    clock.advance(100);
    timers.tick(100);
    expect(expired).toEqual(['a']);
  });

  it('after a stall, expires only once the loop has read its I/O: an entry settled meanwhile is not expired', () => {
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    const answered = entry(expired, 'answered');
    queue.add(answered, 100);
    queue.add(entry(expired, 'silent'), 100);
    clock.advance(400); // the loop was blocked: the timer fires 300 ms late
    timers.tick(100);
    expect(expired).toEqual([]);
    queue.remove(answered); // its answer, read in the poll phase, settled it
    timers.runToLast(); // the check phase
    expect(expired).toEqual(['silent']);
    expect(queue.size).toBe(0);
  });

  it('clear() drops entries waiting for their expiry after a stall', () => {
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    queue.add(entry(expired, 'a'), 100);
    clock.advance(400);
    timers.tick(100);
    queue.clear();
    timers.runToLast();
    expect(expired).toEqual([]);
  });

  it('a delay past 2^31-1 ms expires when it is due, not when the clamped timer first fires', () => {
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    const M = 2 ** 31 - 1;
    queue.add(entry(expired, 'a'), M + 2);
    clock.advance(M);
    timers.tick(M);
    expect(expired).toEqual([]);
    clock.advance(2);
    timers.tick(2);
    expect(expired).toEqual(['a']);
  });

  it('clear(keep) keeps those entries on the timer already set, unref\'d: a clock that stands still does not restart them', () => {
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    const kept = entry(expired, 'kept');
    queue.add(entry(expired, 'dropped'), 95);
    queue.add(kept, 100);
    timers.tick(90); // the clock stands still
    queue.clear(new Set([kept]));
    expect(queue.size).toBe(1);
    expect(timers.countTimers()).toBe(1);
    timers.tick(9); // the timer set for 'dropped' fires at 95, finds nothing due, and is set again for 100
    expect(expired).toEqual([]);
    timers.tick(1);
    expect(expired).toEqual(['kept']);
    expect(queue.size).toBe(0);
    expect(timers.countTimers()).toBe(0);
  });

  it('clear(keep): the timer kept keeps no process alive, and is stopped once its last entry is removed', () => {
    const handles: NodeJS.Timeout[] = [];
    const setTimeoutBefore = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => {
      const handle = setTimeoutBefore(fn, ms);
      handles.push(handle);
      return handle;
    }) as typeof setTimeout);
    try {
      const queue = new DeadlineQueue(clock);
      const kept = entry([], 'kept');
      queue.add(kept, 100);
      expect(handles.map((h) => h.hasRef())).toEqual([true]);
      queue.clear(new Set([kept]));
      expect(handles.map((h) => h.hasRef())).toEqual([false]);
      queue.remove(kept);
      expect(timers.countTimers()).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('a clock that steps back keeps each deadline\'s remaining time: a later entry is not stuck behind an earlier one', () => {
    const queue = new DeadlineQueue(clock);
    const expired: string[] = [];
    queue.add(entry(expired, 'before the step'), 100);
    clock.time = -5_000;
    queue.add(entry(expired, 'after the step'), 100);
    timers.tick(100);
    expect(expired).toEqual(['before the step', 'after the step']);
  });
});

describe('a timed call after an event-loop stall', () => {
  it('an answer that arrived before the late timer ran wins over its timeout, and the client is not blamed', async () => {
    const pool = new ClientPool<object>({ clock, timeout: 100, breaker: { maxFailures: 1 } });
    pool.add({}, { name: 'a' });
    const answer = deferred<string>();
    const result = pool.run(() => answer.promise);
    clock.advance(400); // blocked for 400 ms: the answer is in the socket, its timer already due
    timers.tick(100);
    answer.resolve('in time'); // the poll phase reads it
    await Promise.resolve();
    timers.runToLast();
    await expect(result).resolves.toBe('in time');
    expect(pool.members()[0]).toMatchObject({ failures: 0, state: { kind: 'closed' } });
    await pool.close();
  });

  it('a client that did not answer still times out after the stall, one loop turn later', async () => {
    const pool = new ClientPool<object>({ clock, timeout: 100, breaker: { maxFailures: 1 } });
    pool.add({}, { name: 'a' });
    const result = pool.run(() => new Promise(() => {}));
    result.catch(() => {});
    clock.advance(400);
    timers.tick(100);
    timers.runToLast();
    await expect(result).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(pool.members()[0]).toMatchObject({ failures: 1, state: { kind: 'open' } });
    await pool.destroy();
  });
});
