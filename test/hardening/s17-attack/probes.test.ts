// 4241126: the lane holds only normal calls ('call'); a probe the pick's fallback to `select` admits is
// handed to `hold`. Pinned through a recording breaker: every admission the pool takes is answered with
// exactly one verdict (success, failure or release) of the same admission, whichever path held it, and the
// pool's counters are exact after each outcome.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, ConsecutiveBreaker, FailureRateBreaker, type Admission, type Breaker, type BreakerContext, type PoolMember, type RunOptions } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake', quietWarnings: true });

interface Fake {
  readonly id: string;
}
type Verdicted = Exclude<Admission, false>;

/** A breaker that passes everything to `inner` and writes down what the pool asked and told. */
function recording(inner: Breaker, log: string[], name: string): Breaker {
  return {
    get state() {
      return inner.state;
    },
    acquire: () => {
      const admission = inner.acquire();
      log.push(`${name} acquire ${String(admission)}`);
      return admission;
    },
    canAcquire: () => inner.canAcquire(),
    success: (admission: Verdicted, ms: number) => {
      log.push(`${name} success ${admission}`);
      inner.success(admission, ms);
    },
    failure: (admission: Verdicted, ms: number) => {
      log.push(`${name} failure ${admission}`);
      inner.failure(admission, ms);
    },
    release: (admission: Verdicted) => {
      log.push(`${name} release ${admission}`);
      inner.release(admission);
    },
  };
}

/** Every admission matched by exactly one verdict of its kind, per client. */
function balanced(log: readonly string[]): Record<string, number> {
  const open: Record<string, number> = {};
  for (const line of log) {
    const [name, what, admission] = line.split(' ') as [string, string, string];
    if (what === 'acquire' && admission === 'false') continue;
    const key = `${name} ${admission}`;
    open[key] = (open[key] ?? 0) + (what === 'acquire' ? 1 : -1);
  }
  return Object.fromEntries(Object.entries(open).filter(([, n]) => n !== 0));
}

const code = async (call: Promise<unknown>): Promise<string> => {
  try {
    return `value ${String(await call)}`;
  } catch (error) {
    return `error ${(error as { code?: string }).code ?? String(error)}`;
  }
};

const PATHS: readonly (readonly [string, RunOptions<Fake> | undefined, boolean])[] = [
  ['no options (the lane)', undefined, false],
  ['{ method } (the first lane)', { method: 'get' }, false],
  ['{ timeout } (a race)', { timeout: 60_000 }, false],
  ['{ signal } (a race)', { signal: new AbortController().signal }, false],
  ['no options, an onOutcome hook (hold)', undefined, true],
];

function poolOf(clock: ManualClock, log: string[], observed: boolean, names: readonly string[] = ['a'], breaker: (c: BreakerContext) => Breaker = (c) => new ConsecutiveBreaker({ maxFailures: 1, cooldown: 10 }, c.clock)): ClientPool<Fake> {
  let i = 0;
  const pool = new ClientPool<Fake>({ clock, breaker: (c) => recording(breaker(c), log, names[i++]!) });
  if (observed) pool.use({ name: 'observer', execute: (call, next) => next(call), onOutcome: () => {} });
  for (const name of names) pool.add({ id: name }, { name });
  return pool;
}

describe('a half-open probe of a consecutive breaker, by path', () => {
  for (const [path, options, observed] of PATHS) {
    it(`${path}: a probe that succeeds is heard as success('probe') and closes the circuit; counters exact`, async () => {
      const clock = new ManualClock();
      const log: string[] = [];
      const pool = poolOf(clock, log, observed);
      const changes: string[] = [];
      pool.onStateChange((c) => changes.push(`${c.from.kind}->${c.to.kind}`));
      expect(await code(pool.run(() => Promise.reject(new Error('down')), options))).toBe('error ERR_CLIENT_CALL');
      clock.advance(10);
      expect(await code(pool.run(() => 'probe', options))).toBe('value probe');
      expect(log).toEqual(['a acquire call', 'a failure call', 'a acquire probe', 'a success probe']);
      expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
      expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 1, failures: 1 });
      // Closed: the next call is a normal one again, through whichever path.
      expect(await code(pool.run(() => 'after', options))).toBe('value after');
      expect(log.slice(4)).toEqual(['a acquire call', 'a success call']);
      await pool.close();
    });

    it(`${path}: a probe that fails (or throws synchronously) reopens the circuit, heard as failure('probe')`, async () => {
      for (const how of ['reject', 'throw'] as const) {
        const clock = new ManualClock();
        const log: string[] = [];
        const pool = poolOf(clock, log, observed);
        await code(pool.run(() => Promise.reject(new Error('down')), options));
        clock.advance(10);
        const fn = how === 'reject' ? () => Promise.reject(new Error('still down')) : () => { throw new Error('still down'); };
        expect(await code(pool.run(fn, options))).toBe('error ERR_CLIENT_CALL');
        expect(log).toEqual(['a acquire call', 'a failure call', 'a acquire probe', 'a failure probe']);
        expect(pool.members()[0]!.state.kind).toBe('open');
        expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 0, failures: 2 });
        await pool.close();
      }
    });

    it(`${path}: a probe that hangs keeps the circuit half-open (others refused); destroy() frees its client; its late answer is heard at most once`, async () => {
      const clock = new ManualClock();
      const log: string[] = [];
      const pool = poolOf(clock, log, observed);
      await code(pool.run(() => Promise.reject(new Error('down')), options));
      clock.advance(10);
      let outcome = 'pending';
      let answer!: (value: string) => void;
      void code(pool.run(() => new Promise<string>((resolve) => (answer = resolve)), options)).then((v) => (outcome = v));
      await vi.advanceTimersByTimeAsync(0);
      expect(pool.members()[0]).toMatchObject({ inFlight: 1 });
      expect(pool.members()[0]!.state.kind).toBe('half-open');
      expect(await code(pool.run(() => 'x', options))).toBe('error ERR_ALL_CIRCUITS_OPEN');
      await pool.destroy();
      await vi.advanceTimersByTimeAsync(0);
      const raced = options?.timeout !== undefined || options?.signal !== undefined;
      // Documented: a call with no timeout and no signal is the function's promise; a raced one fails at once.
      expect(outcome).toBe(raced ? 'error ERR_POOL_CLOSED' : 'pending');
      answer('late');
      await vi.advanceTimersByTimeAsync(0);
      expect(outcome).toBe(raced ? 'error ERR_POOL_CLOSED' : 'value late');
      const verdicts = log.slice(3);
      expect(verdicts.length).toBeLessThanOrEqual(1);
      expect(verdicts.every((l) => l.endsWith(' probe'))).toBe(true);
      expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
    });
  }
});

describe('a probe picked by the lane among clients that are ready', () => {
  it('with a closed and a half-open client, round robin: every admission answered in kind, counters exact', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const pool = poolOf(clock, log, false, ['a', 'b']);
    // Open a: round robin sends the first call to a.
    let first = true;
    await code(pool.run((client) => (first && client.id === 'a' ? ((first = false), Promise.reject(new Error('down'))) : 'ok')));
    expect(pool.members().map((m) => m.state.kind)).toEqual(['open', 'closed']);
    clock.advance(10);
    const out: string[] = [];
    for (let i = 0; i < 6; i++) out.push(await code(pool.run((client) => client.id)));
    expect(out.filter((v) => v === 'value a').length).toBeGreaterThan(0);
    expect(pool.members().map((m) => m.state.kind)).toEqual(['closed', 'closed']);
    expect(balanced(log)).toEqual({});
    expect(log.filter((l) => l.includes('probe'))).toEqual(['a acquire probe', 'a success probe']);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });
});

describe('a breaker of the user whose acquire always says probe (a closed circuit it still probes)', () => {
  for (const [path, options, observed] of PATHS) {
    it(`${path}: each success is heard as success('probe'), never as 'call'`, async () => {
      const clock = new ManualClock();
      const log: string[] = [];
      const always = (c: BreakerContext): Breaker => {
        const inner = new ConsecutiveBreaker({ maxFailures: 100 }, c.clock);
        return { get state() { return inner.state; }, acquire: () => (inner.acquire() === false ? false : 'probe'), canAcquire: () => inner.canAcquire(), success: (a, ms) => inner.success(a, ms), failure: (a, ms) => inner.failure(a, ms), release: (a) => inner.release(a) };
      };
      const pool = poolOf(clock, log, observed, ['a'], always);
      for (let i = 0; i < 3; i++) expect(await code(pool.run(() => i, options))).toBe(`value ${i}`);
      expect(log).toEqual(Array.from({ length: 3 }, () => ['a acquire probe', 'a success probe']).flat());
      expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 3 });
      await pool.close();
    });
  }
});

/** The paths above, and retries and a hedge, which send a second attempt through `step`. */
const PROPERTY_PATHS: readonly (readonly [string, RunOptions<Fake> | undefined])[] = [...PATHS.map(([name, options]) => [name, options] as const), ['{ retry }', { retry: { attempts: 2 } }], ['{ hedge }', { hedge: { delay: 1 } }]];

describe('a failure-rate breaker through the lane: property', () => {
  it('any sequence of calls (lane, first lane, races, retries, hedges; answers; clock steps) leaves every admission answered in kind and counters exact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ path: fc.integer({ min: 0, max: PROPERTY_PATHS.length - 1 }), answer: fc.constantFrom('ok', 'reject', 'throw', 'thenable', 'subclass'), step: fc.constantFrom(0, 0, 5, 20) }), { minLength: 1, maxLength: 25 }),
        async (calls) => {
          const clock = new ManualClock();
          const log: string[] = [];
          const pool = poolOf(clock, log, false, ['a', 'b'], (c) => new FailureRateBreaker({ threshold: 0.5, minimumThroughput: 2, window: { kind: 'count', size: 4 }, cooldown: 10, halfOpenProbes: 2 }, c.clock));
          class Sub<V> extends Promise<V> {}
          let ok = 0;
          let failed = 0;
          for (const { path, answer, step } of calls) {
            clock.advance(step);
            const options = PROPERTY_PATHS[path]![1];
            const pending = code(
              pool.run((): unknown => {
                // Counted per invocation: a retry runs the function again.
                if (answer === 'throw' || answer === 'reject') failed++;
                else ok++;
                if (answer === 'throw') throw new Error('sync');
                if (answer === 'reject') return Promise.reject(new Error('down'));
                if (answer === 'thenable') return { then: (resolve: (v: string) => void) => resolve('t') };
                if (answer === 'subclass') return Sub.resolve('s');
                return 'v';
              }, options),
            );
            // A retry's backoff runs on the timers.
            await vi.advanceTimersByTimeAsync(1_000);
            await pending;
          }
          const members = pool.members();
          expect(members.map((m) => m.inFlight)).toEqual([0, 0]);
          expect(members.reduce((s, m) => s + m.successes, 0)).toBe(ok);
          expect(members.reduce((s, m) => s + m.failures, 0)).toBe(failed);
          expect(balanced(log)).toEqual({});
          await pool.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('concurrent half-open probes of a failure-rate breaker (halfOpenProbes: 3), through the lane', () => {
  for (const strategy of ['round-robin', 'a custom balancer'] as const) {
    for (const ending of ['all succeed', 'the last fails', 'one hangs, then destroy()'] as const) {
      it(`${strategy}, ${ending}: each probe held and answered in kind, no 'call' verdict for a probe, counters exact`, async () => {
        const clock = new ManualClock();
        const log: string[] = [];
        const pool = new ClientPool<Fake>({
          clock,
          retry: false,
          ...(strategy === 'a custom balancer' ? { strategy: { pick: (ready: readonly PoolMember<Fake>[]) => ready[0]! } } : {}),
          breaker: (c) => recording(new FailureRateBreaker({ threshold: 0.5, minimumThroughput: 2, window: { kind: 'count', size: 4 }, cooldown: 10, halfOpenProbes: 3 }, c.clock), log, 'a'),
        });
        pool.add({ id: 'a' }, { name: 'a' });
        for (let i = 0; i < 2; i++) await code(pool.run(() => Promise.reject(new Error('down'))));
        expect(pool.members()[0]!.state.kind).toBe('open');
        clock.advance(10);
        const answers: ((ok: boolean) => void)[] = [];
        const held = (): Promise<string> => new Promise<string>((resolve, reject) => void answers.push((ok) => (ok ? resolve('p') : reject(new Error('p')))));
        const calls = [0, 1, 2].map(() => code(pool.run(held)));
        await vi.advanceTimersByTimeAsync(0);
        expect(answers.length).toBe(3);
        expect(pool.members()[0]!.inFlight).toBe(3);
        expect(log.filter((l) => l === 'a acquire probe').length).toBe(3);
        if (ending === 'one hangs, then destroy()') {
          answers[0]!(true);
          answers[1]!(true);
          await vi.advanceTimersByTimeAsync(0);
          await pool.destroy();
          expect((await Promise.all(calls.slice(0, 2)))).toEqual(['value p', 'value p']);
          expect(log.filter((l) => l.endsWith('probe') && !l.includes('acquire'))).toEqual(['a success probe', 'a success probe', 'a release probe'].slice(0, log.includes('a release probe') ? 3 : 2));
          return;
        }
        answers.forEach((answer, i) => answer(!(ending === 'the last fails' && i === 2)));
        const out = await Promise.all(calls);
        expect(out).toEqual(ending === 'all succeed' ? ['value p', 'value p', 'value p'] : ['value p', 'value p', 'error ERR_CLIENT_CALL']);
        expect(log.filter((l) => !l.includes('acquire')).slice(-3)).toEqual(ending === 'all succeed' ? ['a success probe', 'a success probe', 'a success probe'] : ['a success probe', 'a success probe', 'a failure probe']);
        expect(balanced(log)).toEqual({});
        expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: ending === 'all succeed' ? 3 : 2, failures: ending === 'all succeed' ? 2 : 3 });
        await pool.close();
      });
    }
  }
});

describe('a state-change listener at open->half-open, during the pick that admits the probe', () => {
  for (const [path, options, observed] of PATHS) {
    for (const act of ['throws', 'runs a nested call', 'closes the pool'] as const) {
      it(`${path}: a listener that ${act}: the probe is answered in kind, every admission answered, counters exact`, async () => {
        const clock = new ManualClock();
        const log: string[] = [];
        const pool = poolOf(clock, log, observed, ['a']);
        const nested: Promise<string>[] = [];
        let closing: Promise<void> | undefined;
        pool.onStateChange((c) => {
          if (c.to.kind !== 'half-open') return;
          if (act === 'throws') throw new Error('listener');
          if (act === 'runs a nested call') nested.push(code(pool.run(() => 'nested', options)));
          else closing = pool.close();
        });
        await code(pool.run(() => Promise.reject(new Error('down')), options));
        clock.advance(10);
        const out = await code(pool.run(() => 'probe', options));
        await vi.advanceTimersByTimeAsync(0);
        if (act === 'closes the pool') {
          // The pool started closing inside the pick: refused as closing, or let through as a call in flight.
          expect(['value probe', 'error ERR_POOL_CLOSED']).toContain(out);
          await closing;
        } else {
          expect(out).toBe('value probe');
          expect(await Promise.all(nested)).toEqual(act === 'runs a nested call' ? ['error ERR_ALL_CIRCUITS_OPEN'] : []);
          expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 1, failures: 1 });
          expect(pool.members()[0]!.state.kind).toBe('closed');
          await pool.close();
        }
        expect(balanced(log)).toEqual({});
        expect(log.filter((l) => l.includes('probe') && !l.includes('acquire')).every((l) => l.endsWith('probe'))).toBe(true);
      });
    }
  }
});
