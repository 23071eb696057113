// Subscribers that re-enter the pool, unsubscribe mid-publish, or destroy it from inside a message: every
// published attempt start still has exactly one end, and every traced call ends.
import * as dc from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS, ClientPool, hasErrorCode, type AttemptEndMessage, type AttemptStartMessage, type CallMessage } from '../../src/index.js';
import { deferred } from '../helpers/manual-clock.js';

type Client = { readonly id: string };

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Subscribe `fn` to a plain channel until the test ends. */
function on(name: string, fn: (message: unknown) => void): void {
  dc.subscribe(name, fn);
  cleanups.push(() => dc.unsubscribe(name, fn));
}

/** Counts attempt starts and ends by attempt, to check that they pair. */
function pairing(): { starts: Set<unknown>; ends: Map<unknown, number> } {
  const starts = new Set<unknown>();
  const ends = new Map<unknown, number>();
  on(CHANNELS.attemptStart, (m) => void starts.add((m as AttemptStartMessage).call));
  on(CHANNELS.attemptEnd, (m) => {
    const call = (m as AttemptEndMessage).call;
    ends.set(call, (ends.get(call) ?? 0) + 1);
  });
  return { starts, ends };
}

function expectPaired({ starts, ends }: ReturnType<typeof pairing>): void {
  expect([...ends.values()].every((n) => n === 1)).toBe(true);
  expect(new Set(ends.keys())).toEqual(starts);
}

describe('diagnostics_channel under re-entrant subscribers', () => {
  it('destroy() from an attempt:start subscriber ends that attempt once, and its function never runs', async () => {
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' }, { name: 'a' });
    const pairs = pairing();
    on(CHANNELS.attemptStart, () => void pool.destroy(new Error('stop')));
    let ran = 0;
    const error = await pool.run(() => { ran++; return 'x'; }).catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_POOL_CLOSED')).toBe(true);
    expect(ran).toBe(0);
    expectPaired(pairs);
    expect(pairs.starts.size).toBe(1);
  });

  it('close() from the call start event refuses the call, and the trace still ends', async () => {
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' }, { name: 'a' });
    const events: string[] = [];
    const handlers = {
      start: () => { events.push('start'); void pool.close(); },
      end: () => void events.push('end'),
      asyncStart: () => void events.push('asyncStart'),
      asyncEnd: () => void events.push('asyncEnd'),
      error: () => void events.push('error'),
    };
    const calls = dc.tracingChannel<unknown, CallMessage>(CHANNELS.call);
    calls.subscribe(handlers);
    cleanups.push(() => calls.unsubscribe(handlers));
    const pairs = pairing();
    let ran = 0;
    const error = await pool.run(() => { ran++; return 'x'; }).catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_POOL_CLOSED')).toBe(true);
    expect(ran).toBe(0);
    expect(events).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expectPaired(pairs);
  });

  it('a subscriber that unsubscribes itself and another during attempt:start leaves every start with its end', async () => {
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' }, { name: 'a' });
    const pairs = pairing();
    const other = (): void => {};
    on(CHANNELS.attemptStart, other);
    const self = (): void => {
      dc.unsubscribe(CHANNELS.attemptStart, self);
      dc.unsubscribe(CHANNELS.attemptStart, other);
    };
    dc.subscribe(CHANNELS.attemptStart, self);
    for (let i = 0; i < 3; i++) expect(await pool.run(() => 'x')).toBe('x');
    expectPaired(pairs);
    expect(pairs.starts.size).toBe(3);
    await pool.close();
  });

  it('a subscriber that runs a call of its own from attempt:end (once) gets its answer, and both calls pair', async () => {
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' }, { name: 'a' });
    const pairs = pairing();
    let nested: Promise<unknown> | undefined;
    on(CHANNELS.attemptEnd, () => {
      nested ??= pool.run(() => 'nested');
    });
    expect(await pool.run(() => 'outer')).toBe('outer');
    expect(await nested).toBe('nested');
    expectPaired(pairs);
    expect(pairs.starts.size).toBe(2);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('a circuit subscriber that removes the client whose circuit opened leaves the pool consistent', async () => {
    const pool = new ClientPool<Client>({ breaker: { maxFailures: 1 } });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b' });
    const pairs = pairing();
    const removals: Promise<void>[] = [];
    on(CHANNELS.circuit, (m) => {
      const { client, to } = m as { client: string; to: { kind: string } };
      if (to.kind === 'open') removals.push(pool.remove(client).catch(() => undefined));
    });
    await pool.run((c) => { if (c.id === 'a') throw new Error('down'); return c.id; }, { retry: { attempts: 2 } }).catch(() => undefined);
    for (let i = 0; i < 5; i++) await pool.run((c) => { if (c.id === 'a') throw new Error('down'); return c.id; }).catch(() => undefined);
    await Promise.all(removals);
    const left = pool.members();
    expect(left.every((m) => m.state.kind === 'closed' || m.name !== 'a')).toBe(true);
    expect(left.map((m) => m.inFlight)).toEqual(left.map(() => 0));
    expectPaired(pairs);
    await pool.close();
  });

  it('a caller abort with a subscribed TracingChannel: error is the AbortedError, the attempt ends cancelled once', async () => {
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' }, { name: 'a' });
    const errors: unknown[] = [];
    const handlers = { start: () => {}, end: () => {}, asyncStart: () => {}, asyncEnd: () => {}, error: (m: CallMessage) => void errors.push(m.error) };
    const calls = dc.tracingChannel<unknown, CallMessage>(CHANNELS.call);
    calls.subscribe(handlers);
    cleanups.push(() => calls.unsubscribe(handlers));
    const pairs = pairing();
    const outcomes: string[] = [];
    on(CHANNELS.attemptEnd, (m) => void outcomes.push((m as AttemptEndMessage).outcome.kind));
    const controller = new AbortController();
    const hang = deferred<string>();
    const running = pool.run(() => hang.promise, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort(new Error('user left'));
    const error = await running;
    expect(hasErrorCode(error, 'ERR_ABORTED')).toBe(true);
    expect(errors).toEqual([error]);
    expect(outcomes).toEqual(['cancelled']);
    expectPaired(pairs);
    hang.resolve('late');
    await pool.close();
  });

  it('destroy() with a call in flight and every channel subscribed: each start has one end, the trace ends with the PoolClosedError', async () => {
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' }, { name: 'a' });
    const ended: unknown[] = [];
    const handlers = { start: () => {}, end: () => {}, asyncStart: () => {}, asyncEnd: (m: CallMessage) => void ended.push(m.error), error: () => {} };
    const calls = dc.tracingChannel<unknown, CallMessage>(CHANNELS.call);
    calls.subscribe(handlers);
    cleanups.push(() => calls.unsubscribe(handlers));
    const pairs = pairing();
    // A function that honours call.signal (one that ignores it keeps its caller waiting, as documented).
    const running = pool
      .run((_, call) => new Promise<string>((_resolve, reject) => call.signal.addEventListener('abort', () => reject(new Error('aborted')))))
      .catch((e: unknown) => e);
    await Promise.resolve();
    await pool.destroy(new Error('shutdown'));
    const error = await running;
    expect(hasErrorCode(error, 'ERR_POOL_CLOSED')).toBe(true);
    expect(ended).toEqual([error]);
    expectPaired(pairs);
    expect(pairs.starts.size).toBe(1);
  });
});
