import { describe, expect, it, vi } from 'vitest';
import { QuorumError, seededRandom, type Call, type ClientPool } from '../../src/index.js';
import { useFakeTime } from '../helpers/fake-time.js';
import { answer, node, only, poolOf, timed, type Node } from '../helpers/quorum-nodes.js';

useFakeTime();

/** `answer`, recording the clients of each quorum by its trace ID. */
function recording(): { fn: (client: Node, call: Call<Node>) => Promise<unknown>; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    fn: (client, call) => {
      seen.push(client.name);
      return answer(client, call);
    },
  };
}

/** A pool of a, b (answering after `abMs`) and c, whose one token a second the warm-up has just spent. */
async function withCOutOfTokens(abMs = 10): Promise<ClientPool<Node>> {
  const pool = poolOf([node('a', abMs, 1), node('b', abMs, 1), node('c', 10, 1)], { maxWait: 5_000 }, { c: { limit: { rate: 1, burst: 1 } } });
  const warmUp = pool.run(answer, { strategy: only('c') });
  await vi.advanceTimersByTimeAsync(20);
  await warmUp;
  return pool;
}

describe('a quorum never gets a client it tried', () => {
  it('waits for an untried client out of tokens rather than asking a tried one again', async () => {
    // c's token is back at 1 000 ms.
    const pool = await withCOutOfTokens();
    expect(pool.members().find((m) => m.name === 'c')?.tokens).toBeLessThan(1);
    const { fn, seen } = recording();
    const result = pool.quorum(fn, { of: 3, agree: 3 }).then((value) => ({ value, at: Date.now() }));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await result).toEqual({ value: 1, at: expect.any(Number) as unknown });
    expect((await result).at).toBeGreaterThanOrEqual(1_000);
    expect(seen.sort()).toEqual(['a', 'b', 'c']);
  });

  it('an attempt waiting for its untried client holds up no other call: a plain run() behind it is served at once', async () => {
    const pool = await withCOutOfTokens();
    const { fn } = recording();
    const quorum = pool.quorum(fn, { of: 3, agree: 3 });
    await vi.advanceTimersByTimeAsync(20);
    // a and b answered; the third attempt waits for c's token (at 1 000 ms).
    const plain = pool.run(answer).then(() => Date.now());
    await vi.advanceTimersByTimeAsync(20);
    expect(await plain).toBeLessThan(100);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(quorum).resolves.toBe(1);
  });

  it('close() ends an attempt still waiting for its client: the quorum, now impossible, rejects and leaves nothing in flight', async () => {
    const pool = await withCOutOfTokens(100);
    const { fn, seen } = recording();
    const result = timed(pool.quorum(fn, { of: 3, agree: 3 }));
    await vi.advanceTimersByTimeAsync(10);
    const closed = pool.close();
    await vi.advanceTimersByTimeAsync(0);
    const { error, at } = (await result) as { error: QuorumError; at: number };
    expect(at).toBe(30);
    expect(error).toBeInstanceOf(QuorumError);
    expect(error.errors).toEqual([{ client: '', error: expect.objectContaining({ code: 'ERR_POOL_CLOSED' }) as unknown }]);
    expect(seen.sort()).toEqual(['a', 'b']);
    await closed;
    expect(pool.members()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits for an untried client at its maxInFlight rather than asking a tried one again', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 10, 1), node('busy', 10, 1)], {}, { busy: { maxInFlight: 1 } });
    const hold = pool.run((client, call) => answer({ ...client, ms: 100 }, call), { strategy: only('busy') });
    const { fn, seen } = recording();
    const result = pool.quorum(fn, { of: 3, agree: 3 }).then((value) => ({ value, at: Date.now() }));
    await vi.advanceTimersByTimeAsync(500);
    await hold;
    const { value, at } = await result;
    expect(value).toBe(1);
    // Served when the held call ends at 100 ms, answered 10 ms later.
    expect(at).toBeGreaterThanOrEqual(110);
    expect(at).toBeLessThan(120);
    expect(seen.sort()).toEqual(['a', 'b', 'busy']);
  });

  it('an untried client that can take nothing (half-open, its probe busy) fails that attempt instead of repeating a client', async () => {
    const flaky = node('flaky', 10, new Error('down'));
    const pool = poolOf([node('a', 10, 1), node('b', 10, 1), flaky], { breaker: { maxFailures: 1, cooldown: 100 } });
    const opened = pool.run(answer, { strategy: only('flaky') }).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(200);
    await opened;
    // Past its cooldown: a probe takes its one permit and holds it for 1 s.
    flaky.answer = 1;
    const probe = pool.run((client, call) => answer({ ...client, ms: 1_000 }, call), { strategy: only('flaky') });
    await vi.advanceTimersByTimeAsync(1);
    const { fn, seen } = recording();
    const result = pool.quorum(fn, { of: 3, agree: 3 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    const error = await result;
    expect(error).toBeInstanceOf(QuorumError);
    // The attempt's error lists only the clients it could still have had: not the two it tried.
    expect((error as QuorumError).errors).toEqual([{ client: '', error: expect.objectContaining({ code: 'ERR_ALL_CIRCUITS_OPEN', clients: [{ name: 'flaky', state: 'half-open', retryAfterMs: 0 }] }) as unknown }]);
    expect(seen.sort()).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(1_000);
    await probe;
  });

  it('does not count or ask a client out of sync with the pool\'s head', async () => {
    const heights: Record<string, number> = { a: 100, b: 100, stale: 10 };
    const pool = poolOf(Object.keys(heights).map((name) => node(name, 10, 'ok')), { freshness: { maxLag: 3 } });
    for (const name of Object.keys(heights)) {
      const reported = pool.run((client, call) => {
        call.reportHeight(heights[name]!);
        return answer(client, call);
      }, { strategy: only(name) });
      await vi.advanceTimersByTimeAsync(20);
      await reported;
    }
    await expect(pool.quorum(answer, { of: 3, agree: 2 })).rejects.toMatchObject({ reason: 'too-few-clients', available: 2 });
    const { fn, seen } = recording();
    const result = pool.quorum(fn, { of: 2, agree: 2 });
    await vi.advanceTimersByTimeAsync(20);
    await expect(result).resolves.toBe('ok');
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('stays on distinct clients while the pool routes in panic (most circuits open)', async () => {
    const nodes = Array.from({ length: 6 }, (_, i) => node(`n${i}`, 10, i < 4 ? new Error('down') : 'ok'));
    const pool = poolOf(nodes, { random: seededRandom(7), breaker: { maxFailures: 1, cooldown: 60_000 }, maxEjectedPercent: 50 });
    for (let i = 0; i < 4; i++) {
      const opened = pool.run(answer, { strategy: only(`n${i}`) }).catch(() => undefined);
      await vi.advanceTimersByTimeAsync(20);
      await opened;
    }
    expect(pool.members().filter((m) => m.state.kind === 'open')).toHaveLength(4);
    for (const n of nodes) n.answer = 'ok';
    for (let i = 0; i < 30; i++) {
      const { fn, seen } = recording();
      const result = pool.quorum(fn, { of: 2, agree: 2 }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(20);
      expect(await result).toBe('ok');
      expect(new Set(seen).size).toBe(seen.length);
    }
  });
});

describe('a quorum attempt waiting for a client no other can stand in for', () => {
  it('ends at once when that client is removed while the client it already asked is busy', async () => {
    const pool = poolOf([node('a', 10, 1), node('b', 10, 1)], { maxWait: 2_000 }, { a: { maxInFlight: 1 }, b: { maxInFlight: 1 } });
    let releaseA!: () => void;
    const busyA = pool.run(() => new Promise<number>((resolve) => (releaseA = () => resolve(1))), { strategy: only('a') });
    const { fn } = recording();
    const result = timed(pool.quorum(fn, { of: 2, agree: 2 }));
    await vi.advanceTimersByTimeAsync(20);
    // b answered; the second attempt waits for a. Now b is busy too, and a goes.
    let releaseB!: () => void;
    const busyB = pool.run(() => new Promise<number>((resolve) => (releaseB = () => resolve(1))), { strategy: only('b') });
    const removed = pool.remove('a');
    await vi.advanceTimersByTimeAsync(20);
    const { error, at } = (await result) as { error?: QuorumError; at: number };
    expect(error).toBeInstanceOf(QuorumError);
    expect(at).toBeLessThan(100);
    releaseA();
    releaseB();
    await Promise.all([busyA, busyB, removed]);
    await pool.close();
  });
});
