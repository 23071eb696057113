import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, CallbackError, hasErrorCode, InvalidOptionError, PoolClosedError, QuorumError, TimeoutError, type Balancer, type Call, type ClientPool, type PoolMember, type PoolOptions } from '../../src/index.js';
import { QUORUM_DECIDED } from '../../src/resilience/quorum.js';
import { useFakeTime } from '../helpers/fake-time.js';
import { answer, node, only, poolOf, timed, type Node } from '../helpers/quorum-nodes.js';
import { recordWarnings } from '../helpers/warnings.js';

useFakeTime();
afterEach(() => {
  vi.restoreAllMocks();
});

/** What each client's attempt saw, by client name: its signal, and how many times it was called. */
function recorder(): { fn: (client: Node, call: Call<Node>) => Promise<unknown>; signals: Map<string, AbortSignal>; calls: Map<string, number> } {
  const signals = new Map<string, AbortSignal>();
  const calls = new Map<string, number>();
  const fn = (client: Node, call: Call<Node>): Promise<unknown> => {
    signals.set(client.name, call.signal);
    calls.set(client.name, (calls.get(client.name) ?? 0) + 1);
    return answer(client, call);
  };
  return { fn, signals, calls };
}

const byName = (pool: ClientPool<Node>): Record<string, ReturnType<ClientPool<Node>['members']>[number]> => Object.fromEntries(pool.members().map((m) => [m.name, m]));

/** A balancer that always takes the first ready client, and remembers the members it was shown. */
function firstReady(seen: Map<string, PoolMember<Node>>): Balancer<Node> {
  return {
    pick(ready) {
      for (const m of ready) seen.set(m.name, m);
      return ready[0]!;
    },
  };
}

describe('quorum reads resolve once agree answers match', () => {
  it('resolves at the time of the two fast matching answers; the slow client is cancelled with no verdict', async () => {
    const pool = poolOf([node('a', 10, 42), node('b', 30, 42), node('slow', 2_000, 42)], { breaker: { maxFailures: 1 } });
    const { fn, signals } = recorder();
    const result = timed(pool.quorum(fn, { of: 3, agree: 2 }));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await result).toEqual({ value: 42, at: 30 });
    expect(signals.get('slow')?.aborted).toBe(true);
    expect(signals.get('slow')?.reason).toBe(QUORUM_DECIDED);
    expect(signals.get('a')?.aborted).toBe(false);
    const members = byName(pool);
    expect(members['slow']).toMatchObject({ failures: 0, cancelled: 1, inFlight: 0, state: { kind: 'closed' } });
    expect(members['a']).toMatchObject({ successes: 1, failures: 0 });
  });

  it('one liar and one slow client among four: the majority of the two fast honest ones wins at 30 ms, the liar is outvoted', async () => {
    const pool = poolOf([node('a', 10, { slot: 7 }), node('liar', 20, { slot: 9 }), node('b', 30, { slot: 7 }), node('slow', 2_000, { slot: 7 })]);
    const { fn, signals } = recorder();
    const onDisagree = vi.fn();
    const result = timed(pool.quorum(fn, { of: 4, agree: 2, onDisagree }));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await result).toEqual({ value: { slot: 7 }, at: 30 });
    expect(signals.get('slow')?.aborted).toBe(true);
    expect(onDisagree).toHaveBeenCalledExactlyOnceWith({ client: 'liar', value: { slot: 9 }, majority: { slot: 7 }, disagreements: 1 });
  });

  it('with the liar fast and the honest one slow, waits for the slow one and resolves with the majority', async () => {
    const pool = poolOf([node('a', 10, 'x'), node('liar', 5, 'y'), node('slow', 2_000, 'x')]);
    const { fn } = recorder();
    const result = timed(pool.quorum(fn, { of: 3, agree: 2 }));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await result).toEqual({ value: 'x', at: 2_000 });
  });

  it('agree defaults to a strict majority of of', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 20, 2), node('c', 30, 1), node('d', 40, 2), node('e', 50, 1)]);
    const { fn } = recorder();
    const result = timed(pool.quorum(fn, { of: 5 }));
    await vi.advanceTimersByTimeAsync(100);
    // 3 of 5: the third 1 comes at 50 ms.
    expect(await result).toEqual({ value: 1, at: 50 });
  });

  it('matches answers by deep equality by default: key order, undefined keys and bigint do not split them', async () => {
    const pool = poolOf([node('a', 10, { n: 1n, tx: ['0x1'], miss: undefined }), node('b', 20, { tx: ['0x1'], n: 1n })]);
    const { fn } = recorder();
    const result = pool.quorum(fn, { of: 2, agree: 2 });
    await vi.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toEqual({ n: 1n, tx: ['0x1'], miss: undefined });
  });

  it('compare decides what matches: numbers within 1 agree', async () => {
    const pool = poolOf([node('a', 10, 100), node('b', 20, 101), node('c', 30, 200)]);
    const { fn } = recorder();
    const result = timed(pool.quorum(fn, { of: 3, agree: 2, compare: (x, y) => Math.abs(Number(x) - Number(y)) <= 1 }));
    await vi.advanceTimersByTimeAsync(100);
    expect(await result).toEqual({ value: 100, at: 20 });
  });
});

describe('quorum reads run on distinct clients', () => {
  it('never gives a quorum the same client twice, even with a balancer that always picks the first ready one', async () => {
    const seen = new Map<string, PoolMember<Node>>();
    const nodes = Array.from({ length: 5 }, (_, i) => node(`n${i}`, 10 + i, 'same'));
    const pool = poolOf(nodes, { strategy: firstReady(seen) });
    const { fn, calls } = recorder();
    const result = pool.quorum(fn, { of: 5, agree: 5 });
    await vi.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe('same');
    expect([...calls.values()]).toEqual([1, 1, 1, 1, 1]);
  });

  it('reaches into a later tier for a distinct client when the first tier has too few', async () => {
    const pool = poolOf([node('t0a', 10, 1), node('t0b', 10, 1), node('t1', 10, 1)], {}, { t1: { tier: 1 } });
    const { fn, calls } = recorder();
    const result = pool.quorum(fn, { of: 3, agree: 3 });
    await vi.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe(1);
    expect(Object.fromEntries(calls)).toEqual({ t0a: 1, t0b: 1, t1: 1 });
  });

  it('fails at once with too-few-clients when fewer than of clients can take a call, calling none', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 10, 1)]);
    const { fn, calls } = recorder();
    const error = await pool.quorum(fn, { of: 3, agree: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuorumError);
    expect(error).toMatchObject({ code: 'ERR_QUORUM', reason: 'too-few-clients', of: 3, agree: 2, available: 2, answers: [], errors: [] });
    expect(calls.size).toBe(0);
  });

  it('does not count a client whose circuit is open as available', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 10, 1), node('broken', 10, new Error('down'))], { breaker: { maxFailures: 1, cooldown: 60_000 } });
    const { fn } = recorder();
    // Open the broken client's circuit: the pool's only other calls go to a and b, which answer.
    const failing = pool.quorum(fn, { of: 3, agree: 3 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(20);
    expect(await failing).toMatchObject({ reason: 'no-agreement' });
    expect(byName(pool)['broken']?.state.kind).toBe('open');
    await expect(pool.quorum(fn, { of: 3, agree: 2 })).rejects.toMatchObject({ reason: 'too-few-clients', available: 2 });
  });
});

describe('quorum reads reject as soon as agreement is impossible', () => {
  it('a 1-1-1 split rejects with QuorumError carrying the three answers', async () => {
    const pool = poolOf([node('a', 10, 'x'), node('b', 20, 'y'), node('c', 30, 'z')]);
    const { fn } = recorder();
    const result = timed(pool.quorum(fn, { of: 3, agree: 2 }));
    await vi.advanceTimersByTimeAsync(100);
    const { error, at } = await result;
    expect(at).toBe(30);
    expect(error).toBeInstanceOf(QuorumError);
    expect(hasErrorCode(error, 'ERR_QUORUM')).toBe(true);
    const quorum = error as QuorumError;
    expect(quorum.reason).toBe('no-agreement');
    expect(quorum.answers).toEqual([
      { client: 'a', value: 'x' },
      { client: 'b', value: 'y' },
      { client: 'c', value: 'z' },
    ]);
    expect(quorum.errors).toEqual([]);
    expect(quorum.message).toMatch(/split 1-1-1/);
  });

  it('rejects when two answers differ and agree is all of them, without waiting for the slow third', async () => {
    const pool = poolOf([node('a', 10, 'x'), node('b', 20, 'y'), node('slow', 2_000, 'x')]);
    const { fn, signals } = recorder();
    const result = timed(pool.quorum(fn, { of: 3, agree: 3 }));
    await vi.advanceTimersByTimeAsync(3_000);
    const { error, at } = await result;
    expect(at).toBe(20);
    expect(error).toMatchObject({ reason: 'no-agreement', answers: [{ client: 'a', value: 'x' }, { client: 'b', value: 'y' }] });
    expect(signals.get('slow')?.aborted).toBe(true);
    expect(byName(pool)['slow']).toMatchObject({ failures: 0, cancelled: 1, inFlight: 0 });
  });

  it('counts failed attempts: each error is listed with its client, the first is the cause', async () => {
    const down = new Error('connection refused');
    const pool = poolOf([node('a', 10, 1), node('b', 20, down), node('c', 30, new Error('reset'))]);
    const { fn } = recorder();
    const result = timed(pool.quorum(fn, { of: 3, agree: 2 }));
    await vi.advanceTimersByTimeAsync(100);
    const error = (await result).error as QuorumError;
    expect(error).toBeInstanceOf(QuorumError);
    expect(error.answers).toEqual([{ client: 'a', value: 1 }]);
    expect(error.errors.map((e) => [e.client, hasErrorCode(e.error, 'ERR_CLIENT_CALL')])).toEqual([
      ['b', true],
      ['c', true],
    ]);
    expect((error.cause as Error).cause).toBe(down);
  });
});

describe('outvoted clients are counted', () => {
  it('a lying client\'s counter rises with each quorum it is outvoted in, and onDisagree hears each time', async () => {
    const seen = new Map<string, PoolMember<Node>>();
    const pool = poolOf([node('a', 10, 1), node('liar', 5, 666), node('b', 20, 1)], { strategy: firstReady(seen) });
    const { fn } = recorder();
    const heard: number[] = [];
    for (let i = 0; i < 3; i++) {
      const result = pool.quorum(fn, { of: 3, agree: 2, onDisagree: (d) => heard.push(d.disagreements) });
      await vi.advanceTimersByTimeAsync(50);
      await expect(result).resolves.toBe(1);
    }
    expect(heard).toEqual([1, 2, 3]);
    expect(byName(pool)['liar']?.disagreements).toBe(3);
    expect(byName(pool)['a']?.disagreements).toBe(0);
    // Without a penalty its breaker heard only successes.
    expect(byName(pool)['liar']).toMatchObject({ successes: 3, failures: 0, state: { kind: 'closed' } });
  });

  it('with penalty, an outvoted answer counts as a failure on the liar\'s breaker', async () => {
    const pool = poolOf([node('a', 10, 1), node('liar', 5, 666), node('b', 20, 1)], { breaker: { maxFailures: 1, cooldown: 60_000 } });
    const { fn } = recorder();
    const transitions: string[] = [];
    pool.onStateChange((change) => transitions.push(`${change.client}:${change.to.kind}`));
    const result = pool.quorum(fn, { of: 3, agree: 2, penalty: true });
    await vi.advanceTimersByTimeAsync(50);
    await expect(result).resolves.toBe(1);
    expect(byName(pool)['liar']?.state.kind).toBe('open');
    expect(byName(pool)['a']?.state.kind).toBe('closed');
    expect(transitions).toEqual(['liar:open']);
  });

  it('an onDisagree that throws is reported as a warning and the quorum still resolves', async () => {
    const warnings = recordWarnings();
    const pool = poolOf([node('a', 10, 1), node('liar', 5, 2), node('b', 20, 1)]);
    const { fn } = recorder();
    const result = pool.quorum(fn, {
      of: 3,
      agree: 2,
      onDisagree: () => {
        throw new Error('listener broke');
      },
    });
    await vi.advanceTimersByTimeAsync(50);
    await expect(result).resolves.toBe(1);
    expect(warnings).toEqual([expect.objectContaining({ code: 'CLIENTPOOL_CALLBACK_ERROR', text: expect.stringMatching(/quorum onDisagree.*listener broke/) as unknown })]);
  });
});

describe('outvoted clients are counted, whatever onDisagree does', () => {
  it('an async onDisagree that rejects is reported as a warning, never left unhandled', async () => {
    const warnings = recordWarnings();
    const pool = poolOf([node('a', 10, 1), node('liar', 5, 2), node('b', 20, 1)]);
    const { fn } = recorder();
    const result = pool.quorum(fn, { of: 3, agree: 2, onDisagree: () => Promise.reject(new Error('async listener broke')) as unknown as undefined });
    await vi.advanceTimersByTimeAsync(50);
    await expect(result).resolves.toBe(1);
    expect(warnings).toEqual([expect.objectContaining({ code: 'CLIENTPOOL_CALLBACK_ERROR', text: expect.stringMatching(/quorum onDisagree.*async listener broke/) as unknown })]);
  });

  it('with penalty, a client removed before the quorum resolved is counted but its breaker is left alone', async () => {
    const pool = poolOf([node('a', 10, 1), node('liar', 5, 2), node('b', 20, 1)], { breaker: { maxFailures: 1 } });
    const { fn } = recorder();
    const heard: string[] = [];
    const transitions: string[] = [];
    pool.onStateChange((change) => transitions.push(change.client));
    const result = pool.quorum(fn, { of: 3, agree: 2, penalty: true, onDisagree: (d) => heard.push(d.client) });
    await vi.advanceTimersByTimeAsync(7);
    await pool.remove('liar');
    await vi.advanceTimersByTimeAsync(50);
    await expect(result).resolves.toBe(1);
    expect(heard).toEqual(['liar']);
    expect(pool.members().map((m) => m.state.kind)).toEqual(['closed', 'closed']);
    // No transition is reported for a client no longer in the pool.
    expect(transitions).toEqual([]);
  });
});

describe('quorum reads end cleanly', () => {
  it('an abort through the caller\'s signal rejects with AbortedError carrying the reason, and aborts every attempt', async () => {
    const pool = poolOf([node('a', 1_000, 1), node('b', 1_000, 1), node('c', 1_000, 1)]);
    const { fn, signals } = recorder();
    const controller = new AbortController();
    const result = timed(pool.quorum(fn, { of: 3, agree: 2, signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(50);
    const reason = new Error('user left');
    controller.abort(reason);
    const { error, at } = await result;
    expect(at).toBe(50);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).cause).toBe(reason);
    expect([...signals.values()].every((s) => s.aborted)).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.members().map((m) => [m.inFlight, m.failures, m.cancelled])).toEqual([[0, 0, 1], [0, 0, 1], [0, 0, 1]]);
  });

  it('rejects at once with a signal that has already aborted, calling no client', async () => {
    const pool = poolOf([node('a', 10, 1)]);
    const { fn, calls } = recorder();
    await expect(pool.quorum(fn, { of: 1, signal: AbortSignal.abort('gone') })).rejects.toBeInstanceOf(AbortedError);
    expect(calls.size).toBe(0);
  });

  it('a timeout ends each attempt that hangs: a failure of its client, listed in the QuorumError', async () => {
    const pool = poolOf([node('a', 10, 1), node('hang1', 60_000, 1), node('hang2', 60_000, 1)]);
    const { fn } = recorder();
    const result = timed(pool.quorum(fn, { of: 3, agree: 2, timeout: 100 }));
    await vi.advanceTimersByTimeAsync(200);
    const { error, at } = await result;
    expect(at).toBe(100);
    expect(error).toMatchObject({ reason: 'no-agreement', answers: [{ client: 'a', value: 1 }] });
    const errors = (error as QuorumError).errors;
    expect(errors.map((e) => e.client).sort()).toEqual(['hang1', 'hang2']);
    expect(errors.every((e) => e.error instanceof TimeoutError)).toBe(true);
    expect(byName(pool)['hang1']).toMatchObject({ failures: 1, inFlight: 0 });
  });

  it('a deadline ends the attempts still running when it passes, each listed with its DeadlineExceededError', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 20, 2), node('hang', 60_000, 1)]);
    const { fn, signals } = recorder();
    const result = timed(pool.quorum(fn, { of: 3, agree: 2, deadline: 500 }));
    await vi.advanceTimersByTimeAsync(1_000);
    const { error, at } = await result;
    expect(at).toBe(500);
    expect(error).toMatchObject({ reason: 'no-agreement', answers: [{ client: 'a', value: 1 }, { client: 'b', value: 2 }] });
    expect((error as QuorumError).errors).toEqual([{ client: 'hang', error: expect.objectContaining({ code: 'ERR_DEADLINE_EXCEEDED' }) as unknown }]);
    expect(signals.get('hang')?.aborted).toBe(true);
  });

  it('close() during a quorum lets it finish, then closes with nothing in flight', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 20, 1), node('slow', 2_000, 1)]);
    const { fn } = recorder();
    const result = timed(pool.quorum(fn, { of: 3, agree: 2 }));
    await vi.advanceTimersByTimeAsync(5);
    const closed = timed(pool.close());
    await expect(pool.quorum(fn, { of: 1 })).rejects.toBeInstanceOf(PoolClosedError);
    await vi.advanceTimersByTimeAsync(100);
    expect(await result).toEqual({ value: 1, at: 20 });
    // The slow loser was cancelled when the quorum was decided: close does not wait 2 s for it.
    expect(await closed).toEqual({ value: undefined, at: 20 });
  });

  it('destroy() during a quorum rejects it with PoolClosedError and aborts every attempt', async () => {
    const pool = poolOf([node('a', 1_000, 1), node('b', 1_000, 2), node('c', 1_000, 3)]);
    const { fn, signals } = recorder();
    const result = timed(pool.quorum(fn, { of: 3, agree: 2 }));
    await vi.advanceTimersByTimeAsync(10);
    const reason = new Error('shutdown');
    const destroyed = pool.destroy(reason);
    const { error, at } = await result;
    expect(at).toBe(10);
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as Error).cause).toBe(reason);
    expect([...signals.values()].every((s) => s.aborted)).toBe(true);
    await destroyed;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a compare that throws rejects with CallbackError carrying the cause and cancels the attempts left', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 20, 2), node('slow', 2_000, 1)]);
    const { fn, signals } = recorder();
    const broken = new Error('compare broke');
    const result = timed(
      pool.quorum(fn, {
        of: 3,
        agree: 2,
        compare: () => {
          throw broken;
        },
      }),
    );
    await vi.advanceTimersByTimeAsync(3_000);
    const { error, at } = await result;
    expect(at).toBe(20);
    expect(error).toBeInstanceOf(CallbackError);
    expect(error).toMatchObject({ code: 'ERR_CALLBACK', callback: 'compare', cause: broken });
    expect(signals.get('slow')?.aborted).toBe(true);
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
  });

  it('a compare that answers with a promise is refused with CallbackError', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 20, 1)]);
    const { fn } = recorder();
    const result = timed(pool.quorum(fn, { of: 2, agree: 2, compare: (() => Promise.resolve(true)) as unknown as () => boolean }));
    await vi.advanceTimersByTimeAsync(100);
    expect((await result).error).toMatchObject({ code: 'ERR_CALLBACK', message: expect.stringMatching(/promise/) as unknown });
  });

  it('a function that throws synchronously is that client\'s error, not the call\'s', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 20, 1), node('c', 30, 1)]);
    const { fn } = recorder();
    const result = pool.quorum((client, call) => {
      if (client.name === 'a') throw new Error('sync');
      return fn(client, call);
    }, { of: 3, agree: 2 });
    await vi.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe(1);
  });
});

describe('quorum options are checked', () => {
  const pool = (): ClientPool<Node> => poolOf([node('a', 10, 1), node('b', 10, 1), node('c', 10, 1)]);
  const noop = (): number => 1;

  it.each([
    ['of', { of: 0 }],
    ['of', { of: 1.5 }],
    ['of', { of: 1_001 }],
    ['of', { of: '3' }],
    ['of', {}],
    ['agree', { of: 3, agree: 0 }],
    ['agree', { of: 3, agree: 4 }],
    ['agree', { of: 3, agree: 2.5 }],
    ['compare', { of: 3, compare: 'deep' }],
    ['onDisagree', { of: 3, onDisagree: true }],
    ['penalty', { of: 3, penalty: 'yes' }],
    ['quorum options.retry', { of: 3, retry: { attempts: 2 } }],
    ['quorum options.coalesce', { of: 3, coalesce: 'k' }],
    ['quorum options.minHeight', { of: 3, minHeight: 100 }],
    ['quorum options.typo', { of: 3, typo: 1 }],
    ['timeout', { of: 3, timeout: -1 }],
    ['maxWait', { of: 3, maxWait: Number.NaN }],
  ])('refuses a bad %s with InvalidOptionError naming it', async (option, options) => {
    const error = await pool().quorum(noop, options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
  });

  it('refuses missing options and a fn that is not a function', async () => {
    await expect(pool().quorum(noop, undefined as never)).rejects.toMatchObject({ option: 'options' });
    await expect(pool().quorum('fn' as never, { of: 1 })).rejects.toMatchObject({ option: 'fn' });
  });

  it('turns an options getter that throws into InvalidOptionError with the cause', async () => {
    const boom = new Error('getter');
    const options = {
      of: 3,
      get timeout(): number {
        throw boom;
      },
    };
    const error = await pool().quorum(noop, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).cause).toBe(boom);
  });
});

describe('quorum errors stay readable', () => {
  it('a split of many answers lists the ten largest groups and how many there were', async () => {
    const pool = poolOf(Array.from({ length: 12 }, (_, i) => node(`n${i}`, 10 + i, i)));
    const { fn } = recorder();
    const result = pool.quorum(fn, { of: 12, agree: 2 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    const error = (await result) as QuorumError;
    expect(error.answers).toHaveLength(12);
    expect(error.message).toContain(`split ${Array(10).fill(1).join('-')}-… (12 groups),`);
  });
});

describe('a quorum is one call to its caller', () => {
  it('onCallEnd hears it once, with its method and how it ended, whatever its attempts', async () => {
    const ends: [string, string | undefined][] = [];
    const pool = poolOf([node('a', 10, 1), node('b', 20, 1), node('c', 30, 2)]).use({ name: 'ends', onCallEnd: ({ method, error }) => void ends.push([method, error?.code]) });
    const { fn } = recorder();
    const agreed = pool.quorum(fn, { of: 3, agree: 2, method: 'get_block' });
    // Its rejection is handled before the clock moves.
    const split = expect(pool.quorum(fn, { of: 3, agree: 3, method: 'get_block' })).rejects.toBeInstanceOf(QuorumError);
    await vi.advanceTimersByTimeAsync(50);
    await expect(agreed).resolves.toBe(1);
    await split;
    expect(ends).toEqual([
      ['get_block', undefined],
      ['get_block', 'ERR_QUORUM'],
    ]);
    await pool.close();
  });
});

describe('quorum input a new user might give', () => {
  it('reads inherited options as run() does: an inherited timeout ends a silent attempt', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 10, 1), node('silent', 100_000, 1)]);
    const { fn } = recorder();
    const options: { of: number; agree: number } = Object.assign(Object.create({ timeout: 50 }) as object, { of: 3, agree: 3 });
    const result = timed(pool.quorum(fn, options));
    await vi.advanceTimersByTimeAsync(100);
    const { error, at } = await result;
    expect(error).toBeInstanceOf(QuorumError);
    expect(at).toBeLessThanOrEqual(60);
    await pool.close();
  });

  it('a compare that answers something other than a boolean is a CallbackError, not a silent mismatch', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 10, 1), node('c', 10, 1)]);
    const { fn } = recorder();
    const result = pool.quorum(fn, { of: 3, agree: 2, compare: () => 1 as unknown as boolean });
    const settled = expect(result).rejects.toBeInstanceOf(CallbackError);
    await vi.advanceTimersByTimeAsync(20);
    await settled;
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
    await pool.close();
  });

  it('QUORUM_DECIDED cannot be changed by a listener that receives it', () => {
    expect(Object.isFrozen(QUORUM_DECIDED)).toBe(true);
  });

  it('an answer that reuses one object in many places is compared in linear time (no exponential walk)', async () => {
    const build = (): object => {
      let o: object = { leaf: 1 };
      for (let i = 0; i < 60; i++) o = { a: o, b: o };
      return o;
    };
    const pool = poolOf([node('a', 1, 0), node('b', 1, 0)]);
    // 2^60 paths: this finishes only if pairs proven equal are remembered.
    await expect(pool.quorum(() => build(), { of: 2, agree: 2 })).resolves.toBeDefined();
    await pool.close();
  });
});

/** a and b, and c: slow (200 ms) and taking one call at a time, so that a call sent to it first keeps it busy. */
const busyC = (options: PoolOptions<Node>): ClientPool<Node> => poolOf([node('a', 10, 1), node('b', 10, 1), node('c', 200, 1)], options, { c: { maxInFlight: 1 } });

describe('a quorum attempt waiting for a client that then cannot serve', () => {
  it('fails at once when the busy client it waits for goes down, naming it, not as a rate limit', async () => {
    let isCHealthy = true;
    const pool = busyC({ maxWait: 1_000, healthCheck: { check: (n) => (n.name === 'c' && !isCHealthy ? Promise.reject(new Error('down')) : undefined), interval: 10, unhealthyThreshold: 1 } });
    const { fn } = recorder();
    const busy = pool.run(fn, { strategy: only('c') });
    const result = timed(pool.quorum(fn, { of: 3, agree: 3 }));
    isCHealthy = false;
    await vi.advanceTimersByTimeAsync(300);
    await busy;
    const { error, at } = await result;
    expect(at).toBeLessThan(300);
    expect((error as QuorumError).errors.map((e) => (e.error as unknown as { code: string }).code)).toEqual(['ERR_ALL_CIRCUITS_OPEN']);
    await pool.close();
  });

  it('says no untried client is left when the one it waited for was removed', async () => {
    const pool = busyC({ maxWait: 1_000 });
    const { fn } = recorder();
    const busy = pool.run(fn, { strategy: only('c') });
    const result = timed(pool.quorum(fn, { of: 3, agree: 3 }));
    await vi.advanceTimersByTimeAsync(20);
    const removed = pool.remove('c');
    await vi.advanceTimersByTimeAsync(300);
    await busy;
    await removed;
    const { error } = await result;
    expect((error as QuorumError).errors[0]!.error.message).toBe('no client is left that this call has not tried');
    await pool.close();
  });
});
