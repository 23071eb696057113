import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Balancer } from '../../src/balancers/balancer.js';
import { NoClientsError, PoolClosedError, RateLimitedError } from '../../src/index.js';
import { ClientQueue } from '../../src/limit/client-queue.js';
import type { Member } from '../../src/member.js';
import type { PickResult, Roster } from '../../src/roster.js';

// The client queue against a stub roster: `due` is when the first throttled client is back, `pick` what
// the next select() returns. Time is Date.now() on fake timers.

const clock = { now: () => Date.now() };
const balancer = {} as Balancer<string>;
// Only the name is read (for the report).
const member = (name: string): Member<string> => ({ name }) as unknown as Member<string>;

interface Stub {
  due: number | undefined;
  picks: PickResult<string>[];
  /** Run by select() before it answers, as a listener, balancer or breaker callback may be. */
  onSelect?: (() => void) | undefined;
  /** Members handed back with giveBack(), as `name:admission`. */
  givenBack?: string[];
}

function queueWith(stub: Stub): { queue: ClientQueue<string>; reports: string[] } {
  const roster = {
    nextThrottleDue: () => stub.due,
    nextCostDue: () => undefined,
    lastCostDue: undefined,
    select: (): PickResult<string> => {
      stub.onSelect?.();
      return stub.picks.shift() ?? { kind: 'wait' };
    },
    giveBack: (m: Member<string>, admission: string) => (stub.givenBack ??= []).push(`${m.name}:${admission}`),
  } as unknown as Roster<string>;
  const reports: string[] = [];
  const queue = new ClientQueue(roster, clock, (client, method, since, rejected) => reports.push(`${client ?? '-'}:${method}:${since}:${rejected}`));
  return { queue, reports };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ClientQueue', () => {
  it('serves queued calls in FIFO order when the first client is due back, with the member and its admission', async () => {
    const stub: Stub = { due: 100, picks: [] };
    const { queue, reports } = queueWith(stub);
    const calls = ['m1', 'm2', 'm3'].map((method) => queue.wait(balancer, undefined, 1_000, method));
    expect(queue.length).toBe(3);
    await vi.advanceTimersByTimeAsync(99);
    stub.picks.push({ kind: 'ready', member: member('a'), admission: 'call' }, { kind: 'ready', member: member('b'), admission: 'probe' });
    stub.due = 200;
    await vi.advanceTimersByTimeAsync(1);
    const served = await Promise.all(calls.slice(0, 2));
    expect(served.map(([m, admission]) => `${m.name}:${admission}`)).toEqual(['a:call', 'b:probe']);
    expect(reports).toEqual(['a:m1:0:false', 'b:m2:0:false']);
    expect(queue.length).toBe(1);
    stub.picks.push({ kind: 'ready', member: member('c'), admission: 'call' });
    await vi.advanceTimersByTimeAsync(100);
    expect((await calls[2]!)[0].name).toBe('c');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses at once a call whose maxWait ends before the first client is back', async () => {
    const { queue, reports } = queueWith({ due: 500, picks: [] });
    const error = await queue.wait(balancer, undefined, 100, 'm').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(500);
    expect(reports).toEqual(['-:m:0:true']);
    expect([queue.length, vi.getTimerCount()]).toEqual([0, 0]);
  });

  it('refuses at once, behind others waiting too, a call whose maxWait ends before the first client is back', async () => {
    vi.setSystemTime(1_000);
    const stub: Stub = { due: 1_500, picks: [] };
    const { queue, reports } = queueWith(stub);
    const patient = queue.wait(balancer, undefined, 5_000, 'patient');
    const error = await queue.wait(balancer, undefined, 100, 'hurried').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(500);
    expect((error as Error).message).toBe('rate limited (every client): next token in 500 ms');
    expect(reports).toEqual(['-:hurried:1000:true']);
    // One whose maxWait just covers the 500 ms queues.
    const inTime = queue.wait(balancer, undefined, 500, 'in time');
    expect(queue.length).toBe(2);
    stub.picks.push({ kind: 'ready', member: member('a'), admission: 'call' }, { kind: 'ready', member: member('b'), admission: 'call' });
    await vi.advanceTimersByTimeAsync(500);
    expect((await patient)[0].name).toBe('a');
    expect((await inTime)[0].name).toBe('b');
  });

  it('a later call does not move the timer: the first in line is refused when the wake comes, not earlier', async () => {
    const stub: Stub = { due: 100, picks: [] };
    const { queue, reports } = queueWith(stub);
    const first = queue.wait(balancer, undefined, 150, 'first').catch((e: unknown) => e);
    // The client is now due at 400: the first can no longer make it, but nobody knows before 100.
    stub.due = 400;
    await vi.advanceTimersByTimeAsync(10);
    const second = queue.wait(balancer, undefined, 5_000, 'second');
    expect(reports).toEqual([]);
    await vi.advanceTimersByTimeAsync(90);
    expect((await first as RateLimitedError).message).toBe('rate limited (every client): next token in 300 ms');
    expect(reports).toEqual(['-:first:0:true']);
    stub.picks.push({ kind: 'ready', member: member('a'), admission: 'call' });
    await vi.advanceTimersByTimeAsync(300);
    expect((await second)[0].name).toBe('a');
  });

  it('a call still waiting at its maxWait (the client due back was taken again) is refused then, and reported', async () => {
    const stub: Stub = { due: 100, picks: [] };
    const { queue, reports } = queueWith(stub);
    const waiting = queue.wait(balancer, undefined, 150, 'm').catch((e: unknown) => e);
    // At 100 the client is still out (another caller's token, a shared bucket): it says 120 now.
    stub.due = 120;
    await vi.advanceTimersByTimeAsync(149);
    expect(reports).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await waiting).toBeInstanceOf(RateLimitedError);
    expect(reports).toEqual(['-:m:0:true']);
    expect([queue.length, vi.getTimerCount()]).toEqual([0, 0]);
  });

  it('refuses a queued call as soon as the first client is due back after its maxWait, with that wait', async () => {
    const stub: Stub = { due: 100, picks: [] };
    const { queue, reports } = queueWith(stub);
    const hurried = queue.wait(balancer, undefined, 150, 'hurried').catch((e: unknown) => e);
    const patient = queue.wait(balancer, undefined, 5_000, 'patient');
    // At 100 the client is still out and says 400 now: the first cannot make it, and is told at once.
    stub.due = 400;
    await vi.advanceTimersByTimeAsync(100);
    const error = await hurried;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(300);
    expect(reports).toEqual(['-:hurried:0:true']);
    stub.picks.push({ kind: 'ready', member: member('a'), admission: 'call' });
    await vi.advanceTimersByTimeAsync(300);
    expect((await patient)[0].name).toBe('a');
  });

  it('fails every queued call with the roster’s error when waiting cannot help, and with PoolClosedError on close', async () => {
    const stub: Stub = { due: 100, picks: [] };
    const { queue } = queueWith(stub);
    const calls = [queue.wait(balancer, undefined, 1_000, 'a'), queue.wait(balancer, undefined, 1_000, 'b')].map((p) => p.catch((e: unknown) => e));
    stub.picks.push({ kind: 'unavailable', error: new NoClientsError() });
    await vi.advanceTimersByTimeAsync(100);
    expect((await Promise.all(calls)).map((e) => (e as Error).name)).toEqual(['NoClientsError', 'NoClientsError']);
    const later = queue.wait(balancer, undefined, 1_000, 'c').catch((e: unknown) => e);
    queue.close();
    expect(await later).toBeInstanceOf(PoolClosedError);
    expect([queue.length, vi.getTimerCount()]).toEqual([0, 0]);
  });

  it('a waiter aborted by a callback of its own pick gives the client back, and the next waiter picks for itself', async () => {
    const stub: Stub = { due: 100, picks: [] };
    const { queue, reports } = queueWith(stub);
    const controller = new AbortController();
    const aborted = queue.wait(balancer, controller.signal, 1_000, 'aborted').catch((e: unknown) => e);
    const next = queue.wait(balancer, undefined, 1_000, 'next');
    stub.picks.push({ kind: 'ready', member: member('a'), admission: 'call' }, { kind: 'ready', member: member('b'), admission: 'call' });
    stub.onSelect = () => {
      stub.onSelect = undefined;
      controller.abort('gone');
    };
    await vi.advanceTimersByTimeAsync(100);
    expect((await aborted as Error).name).toBe('AbortedError');
    // The abort hands the turn on at once: the next waiter is served with a pick of its own (a), and
    // the client picked for the aborted one (b) goes back.
    expect((await next)[0].name).toBe('a');
    expect(stub.givenBack).toEqual(['b:call']);
    expect(reports).toEqual(['a:next:0:false']);
  });

  it('with no client due back (none throttled), tries again on the next turn of the event loop', async () => {
    const stub: Stub = { due: undefined, picks: [{ kind: 'ready', member: member('a'), admission: 'call' }] };
    const { queue } = queueWith(stub);
    const call = queue.wait(balancer, undefined, 1_000, 'm');
    await vi.advanceTimersByTimeAsync(0);
    expect((await call)[0].name).toBe('a');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('onReady() serves again after a turn that served others', async () => {
    const stub: Stub = { due: 100, picks: [{ kind: 'ready', member: member('a'), admission: 'call' }] };
    const { queue } = queueWith(stub);
    const first = queue.wait(balancer, undefined, 5_000, 'first');
    const second = queue.wait(balancer, undefined, 5_000, 'second');
    stub.due = 1_000;
    await vi.advanceTimersByTimeAsync(100);
    expect((await first)[0].name).toBe('a');
    stub.picks.push({ kind: 'ready', member: member('b'), admission: 'call' });
    queue.onReady();
    await vi.advanceTimersByTimeAsync(0);
    expect((await second)[0].name).toBe('b');
  });

  it('onReady() serves on the next turn of the event loop, before the client due back', async () => {
    const stub: Stub = { due: 1_000, picks: [] };
    const { queue } = queueWith(stub);
    const call = queue.wait(balancer, undefined, 5_000, 'm');
    stub.picks.push({ kind: 'ready', member: member('a'), admission: 'call' });
    queue.onReady();
    await vi.advanceTimersByTimeAsync(0);
    expect((await call)[0].name).toBe('a');
  });
});
