import { describe, expect, it } from 'vitest';
import { type Balancer, ClientPool, type MemberSnapshot, type Middleware, type PoolMember } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { codeOf } from './rig.js';

// The pick stage's lane (src/pipeline/pick-client.ts `lane`, src/roster.ts `laneMember` / `missed`) under
// callbacks that re-enter the pool during the pick. Expected values from docs/call-pipeline.md: "a
// balancer's pick() (a throw or a stranger fails the call with CallbackError)"; "After the pick the lane looks
// again at what a callback of the pick could have changed (the flag, an attempt-start subscriber, an
// `onOutcome` hook)"; every lane attempt "goes where the full pick sends it and leaves the pool in the same state".
useUnhandledGuard({ time: 'real', quietWarnings: true });

function totals(pool: ClientPool<string>): { inFlight: number; successes: number; failures: number; refused: number } {
  const t = { inFlight: 0, successes: 0, failures: 0, refused: 0 };
  for (const m of pool.members() as readonly MemberSnapshot[]) {
    t.inFlight += m.inFlight;
    t.successes += m.successes;
    t.failures += m.failures;
    t.refused += m.refused;
  }
  return t;
}

function pool3(strategy?: Balancer<string>): ClientPool<string> {
  const pool = new ClientPool<string>(strategy === undefined ? {} : { strategy });
  for (const n of ['a', 'b', 'c']) pool.add(n, { name: n });
  return pool;
}

describe('a balancer pick that re-enters the pool', () => {
  it('a nested run() inside pick: both calls resolve on the client their own pick chose; counters right', async () => {
    let depth = 0;
    const nested: Promise<string>[] = [];
    const strategy: Balancer<string> = {
      pick(ready) {
        if (depth++ === 0) nested.push(pool.run((client) => `nested:${client}`));
        depth--;
        return ready[ready.length - 1]!;
      },
    };
    const pool: ClientPool<string> = pool3(strategy);
    const outer = await pool.run((client) => `outer:${client}`);
    expect(outer).toBe('outer:c');
    expect(await nested[0]).toBe('nested:c');
    expect(totals(pool)).toEqual({ inFlight: 0, successes: 2, failures: 0, refused: 0 });
    await pool.close();
  });

  it('a nested run() inside pick whose own pick returns a stranger: the nested call gets CallbackError, the outer its client', async () => {
    let depth = 0;
    const nested: Promise<unknown>[] = [];
    const strategy: Balancer<string> = {
      pick(ready) {
        const d = depth++;
        try {
          if (d === 0) nested.push(pool.run((client) => `nested:${client}`).catch((e: unknown) => e));
          return d === 0 ? ready[0]! : ({ name: 'stranger' } as unknown as PoolMember<string>);
        } finally {
          depth--;
        }
      },
    };
    const pool: ClientPool<string> = pool3(strategy);
    expect(await pool.run((client) => `outer:${client}`)).toBe('outer:a');
    expect(codeOf(await nested[0])).toBe('ERR_CALLBACK');
    expect(totals(pool).inFlight).toBe(0);
    await pool.close();
  });

  it('the outer pick returns a stranger after a nested call that succeeded: the outer gets CallbackError, the nested its result', async () => {
    let depth = 0;
    const nested: Promise<unknown>[] = [];
    const strategy: Balancer<string> = {
      pick(ready) {
        const d = depth++;
        try {
          if (d === 0) nested.push(pool.run((client) => `nested:${client}`));
          return d === 0 ? ({ slot: 0 } as unknown as PoolMember<string>) : ready[1]!;
        } finally {
          depth--;
        }
      },
    };
    const pool: ClientPool<string> = pool3(strategy);
    const outer = await pool.run((client) => `outer:${client}`).catch((e: unknown) => e);
    expect(codeOf(outer)).toBe('ERR_CALLBACK');
    expect(await nested[0]).toBe('nested:b');
    expect(totals(pool)).toEqual({ inFlight: 0, successes: 1, failures: 0, refused: 0 });
    await pool.close();
  });

  it('a pick that throws: CallbackError with the thrown error as cause', async () => {
    const boom = new Error('boom');
    const pool = pool3({
      pick() {
        throw boom;
      },
    });
    const error = await pool.run(() => 'x').catch((e: unknown) => e);
    expect(codeOf(error)).toBe('ERR_CALLBACK');
    expect((error as Error).cause).toBe(boom);
    expect(totals(pool).inFlight).toBe(0);
    await pool.close();
  });

  it("a pick that returns a member of another pool: CallbackError; neither pool's counters move", async () => {
    const other = pool3();
    const otherMember = { current: undefined as PoolMember<string> | undefined };
    await other.run(() => 'x', {
      strategy: {
        pick(ready) {
          otherMember.current = ready[0];
          return ready[0]!;
        },
      },
    });
    const pool = pool3({ pick: () => otherMember.current! });
    const error = await pool.run(() => 'x').catch((e: unknown) => e);
    expect(codeOf(error)).toBe('ERR_CALLBACK');
    expect(totals(pool)).toEqual({ inFlight: 0, successes: 0, failures: 0, refused: 0 });
    expect(totals(other)).toEqual({ inFlight: 0, successes: 1, failures: 0, refused: 0 });
    await pool.close();
    await other.close();
  });

  it('a pick that adds a client and returns it (not among the ready it was given): CallbackError; the pool keeps 4 clients', async () => {
    let added = false;
    const pool: ClientPool<string> = pool3({
      pick(ready) {
        if (!added) {
          added = true;
          pool.add('d', { name: 'd' });
          // the new member is not in `ready` (the array given): find it by a fresh pick
          let d: PoolMember<string> | undefined;
          void pool.run(() => 'probe-d', { strategy: { pick: (r) => (d = r.find((m) => m.name === 'd') ?? r[0]!) } });
          return d ?? ready[0]!;
        }
        return ready[0]!;
      },
    });
    const result = await pool.run((client) => client).catch((e: unknown) => e);
    // 'd' was in the ready list the pool holds by the end of the pick: either it is accepted, or refused as a stranger
    expect(result === 'd' || codeOf(result) === 'ERR_CALLBACK').toBe(true);
    expect(pool.size).toBe(4);
    await new Promise((r) => setImmediate(r));
    expect(totals(pool).inFlight).toBe(0);
    await pool.close();
  });

  it('a pick that removes the member it returns: the call does not run on a removed client (refused or elsewhere)', async () => {
    let removing: Promise<void> | undefined;
    const pool: ClientPool<string> = pool3({
      pick(ready) {
        const a = ready.find((m) => m.name === 'a') ?? ready[0]!;
        if (removing === undefined) removing = pool.remove('a');
        return a;
      },
    });
    const result = await pool.run((client) => client).catch((e: unknown) => e);
    expect(result === 'a').toBe(false);
    await removing;
    expect(pool.members().map((m) => m.name)).toEqual(['b', 'c']);
    expect(totals(pool).inFlight).toBe(0);
    await pool.close();
  });

  it('a pick that use()s an onOutcome middleware: the very call it picks for is observed (the lane looks again after the pick)', async () => {
    const heard: string[] = [];
    const observer: Middleware<string> = { name: 'observer', onOutcome: (call, outcome) => heard.push(`${call.clientName}:${outcome.kind}`) };
    let used = false;
    const pool: ClientPool<string> = pool3({
      pick(ready) {
        if (!used) {
          used = true;
          pool.use(observer);
        }
        return ready[0]!;
      },
    });
    expect(await pool.run((client) => client)).toBe('a');
    expect(heard).toEqual(['a:success']);
    expect(await pool.run((client) => client)).toBe('a');
    expect(heard).toEqual(['a:success', 'a:success']);
    await pool.close();
  });

  it('a pick that use()s an execute middleware: the call in that pick keeps the pipeline it started on, the next call goes through it', async () => {
    const seen: string[] = [];
    let used = false;
    const pool: ClientPool<string> = pool3({
      pick(ready) {
        if (!used) {
          used = true;
          pool.use(async (call, next) => {
            seen.push(`mw:${call.clientName}`);
            return next(call);
          });
        }
        return ready[0]!;
      },
    });
    expect([await pool.run((c) => c), await pool.run((c) => c)]).toEqual(['a', 'a']);
    expect(seen).toEqual(['mw:a']);
    expect(totals(pool)).toEqual({ inFlight: 0, successes: 2, failures: 0, refused: 0 });
    await pool.close();
  });

  it('a pick that closes the pool: the call gets PoolClosedError, close resolves', async () => {
    let closing: Promise<void> | undefined;
    const pool: ClientPool<string> = pool3({
      pick(ready) {
        closing ??= pool.close();
        return ready[0]!;
      },
    });
    const error = await pool.run(() => 'x').catch((e: unknown) => e);
    expect(codeOf(error)).toBe('ERR_POOL_CLOSED');
    await closing;
    expect(totals(pool).inFlight).toBe(0);
  });
});

describe('round robin through the lane with re-entrant functions', () => {
  it('a synchronous function that runs a nested call: turns go a, b, c, a, b, c across outer and nested calls', async () => {
    const pool = pool3();
    const order: string[] = [];
    const inner: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      await pool.run((client) => {
        order.push(client);
        inner.push(pool.run((c) => order.push(c)));
        return client;
      });
    }
    await Promise.all(inner);
    expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(totals(pool)).toEqual({ inFlight: 0, successes: 6, failures: 0, refused: 0 });
    await pool.close();
  });

  it('a single client at its maxInFlight: a plain call waits (the lane has no ready member), then runs', async () => {
    const pool = new ClientPool<string>({ maxWait: 1_000 });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    let release!: () => void;
    const first = pool.run(() => new Promise<string>((r) => (release = () => r('first'))));
    const second = pool.run((c) => `second:${c}`);
    await new Promise((r) => setTimeout(r, 5));
    release();
    expect(await first).toBe('first');
    expect(await second).toBe('second:a');
    expect(totals(pool).inFlight).toBe(0);
    await pool.close();
  });

  it('a client saturating mid-turn: round robin skips it and wraps, no client gets two calls over its cap', async () => {
    const pool = new ClientPool<string>({ maxWait: 1_000 });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    pool.add('b', { name: 'b' });
    pool.add('c', { name: 'c', maxInFlight: 1 });
    const releases: (() => void)[] = [];
    const seen: string[] = [];
    const calls = Array.from({ length: 6 }, () =>
      pool.run((client) => {
        seen.push(client);
        return new Promise<string>((r) => releases.push(() => r(client)));
      }),
    );
    await new Promise((r) => setTimeout(r, 5));
    expect(seen.filter((c) => c === 'a').length).toBeLessThanOrEqual(1);
    expect(seen.filter((c) => c === 'c').length).toBeLessThanOrEqual(1);
    expect(seen).toHaveLength(6);
    for (const r of releases) r();
    await Promise.all(calls);
    expect(totals(pool).inFlight).toBe(0);
    await pool.close();
  });
});

describe('listeners and breakers that re-enter during the pick', () => {
  it('an onStateChange listener that runs a nested call when a circuit opens: both calls answered, counters right', async () => {
    const pool = new ClientPool<string>({ breaker: { maxFailures: 1, cooldown: 60_000 } });
    for (const n of ['a', 'b']) pool.add(n, { name: n });
    const nested: Promise<string>[] = [];
    pool.onStateChange(({ to }) => {
      if (to.kind === 'open') nested.push(pool.run((c) => `nested:${c}`));
    });
    const failed = await pool.run(() => {
      throw new Error('down');
    }).catch((e: unknown) => e);
    expect(codeOf(failed)).toBe('ERR_CLIENT_CALL');
    expect(await nested[0]).toBe('nested:b');
    expect(await pool.run((c) => c)).toBe('b');
    expect(totals(pool)).toMatchObject({ inFlight: 0, successes: 2, failures: 1 });
    await pool.close();
  });

  it('a custom breaker whose acquire() runs a nested call and answers "probe": both calls run, the outer as a probe', async () => {
    let depth = 0;
    const admissions: string[] = [];
    const nested: Promise<string>[] = [];
    const pool: ClientPool<string> = new ClientPool<string>({
      breaker: () => ({
        state: { kind: 'closed' } as never,
        acquire() {
          const d = depth++;
          try {
            if (d === 0) nested.push(pool.run((c) => `nested:${c}`));
            return d === 0 ? 'probe' : 'call';
          } finally {
            depth--;
          }
        },
        canAcquire: () => true,
        success: (admission: string) => void admissions.push(`ok:${admission}`),
        failure: (admission: string) => void admissions.push(`fail:${admission}`),
        release: (admission: string) => void admissions.push(`release:${admission}`),
      }),
    });
    pool.add('a', { name: 'a' });
    expect(await pool.run((c) => `outer:${c}`)).toBe('outer:a');
    expect(await nested[0]).toBe('nested:a');
    expect(admissions.sort()).toEqual(['ok:call', 'ok:probe']);
    expect(totals(pool)).toMatchObject({ inFlight: 0, successes: 2 });
    await pool.close();
  });

  it('a custom breaker whose acquire() throws: guarded ("as if the callback had not been given"), the lane and the full pick alike', async () => {
    const boom = new Error('acquire');
    const pool = new ClientPool<string>({
      breaker: () => ({
        state: { kind: 'closed' } as never,
        acquire() {
          throw boom;
        },
        canAcquire: () => true,
        success: () => undefined,
        failure: () => undefined,
        release: () => undefined,
      }),
    });
    pool.add('a', { name: 'a' });
    expect(await pool.run((c) => `lane:${c}`)).toBe('lane:a');
    expect(await pool.run((c) => `full:${c}`, { timeout: 1_000 })).toBe('full:a');
    expect(totals(pool).inFlight).toBe(0);
    await pool.close();
  });

  it('an onOutcome middleware that runs a nested call from its hook: no call lost, counters right', async () => {
    const pool = pool3();
    const nested: Promise<string>[] = [];
    pool.use({
      name: 'nester',
      onOutcome: () => {
        if (nested.length < 3) nested.push(pool.run((c) => `nested:${c}`));
      },
    });
    expect(await pool.run((c) => c)).toBe('a');
    await new Promise((r) => setImmediate(r));
    const all = await Promise.all(nested);
    expect(all).toEqual(['nested:b', 'nested:c', 'nested:a']);
    expect(totals(pool)).toEqual({ inFlight: 0, successes: 4, failures: 0, refused: 0 });
    await pool.close();
  });
});

