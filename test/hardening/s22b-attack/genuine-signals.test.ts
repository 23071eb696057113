import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool, InvalidOptionError } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { inFlight } from '../../helpers/watched-pool.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Probe (passes): genuine signals that are not a plain AbortController's pass validate.ts's new brand check
// (d33f3ce) and work at every stage with an around hook: AbortSignal.any(), AbortSignal.timeout() (a long one,
// never firing: no wall clock), a subclass of AbortController, AbortSignal.abort(), a transparent Proxy of a
// real signal. Aborting the source ends a call held in its hook, one inside (hook hanging after next()) and
// an attempt in flight with AbortedError whose cause is the source's reason; an already-aborted one is refused
// at once with AbortedError, fn never run. A prototype-only object is refused (control).

useUnhandledGuard({ time: 'real', quietWarnings: true });

class MyController extends AbortController {}

type Make = () => { signal: AbortSignal; abort: (reason: unknown) => void };
const MAKERS: Record<string, Make> = {
  'AbortSignal.any([controller])': () => {
    const c = new AbortController();
    return { signal: AbortSignal.any([c.signal]), abort: (r) => c.abort(r) };
  },
  'AbortSignal.any([timeout(1e9), controller])': () => {
    const c = new AbortController();
    return { signal: AbortSignal.any([AbortSignal.timeout(1e9), c.signal]), abort: (r) => c.abort(r) };
  },
  'a subclass of AbortController': () => {
    const c = new MyController();
    return { signal: c.signal, abort: (r) => c.abort(r) };
  },
  'a transparent Proxy of a real signal': () => {
    const c = new AbortController();
    return { signal: new Proxy(c.signal, {}), abort: (r) => c.abort(r) };
  },
};

const never = (): Promise<never> => new Promise<never>(() => undefined);
const honour = (_c: string, call: { signal: AbortSignal }): Promise<never> => new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('aborted'))));

describe('genuine signals through around hooks', () => {
  for (const [name, make] of Object.entries(MAKERS)) {
    it(`${name}: held, inside and in-flight calls all end with AbortedError(reason)`, async () => {
      const pool = new ClientPool<string>();
      const ends: unknown[] = [];
      pool.use({ name: 'ends', onCallEnd: (e) => void ends.push(e) });
      pool.use({
        name: 'h',
        around: async (scope, next) => {
          if (scope.method === 'held') await never();
          if (scope.method === 'inside') {
            const v = await next().catch(() => undefined);
            await never();
            return v;
          }
          return next();
        },
      });
      pool.add('a', { name: 'a' });
      pool.add('b', { name: 'b' });
      const { signal, abort } = make();
      let ran = 0;
      const held = state(pool.run(() => (ran++, 'v'), { signal, method: 'held' }));
      const inside = state(pool.run(() => 'v', { signal, method: 'inside' }));
      const flight = state(pool.run(honour, { signal, method: 'flight' }));
      await turns(3);
      expect([held(), inside(), flight()]).toEqual(['pending', 'pending', 'pending']);
      const reason = new Error('bye');
      abort(reason);
      await turns(5);
      for (const s of [held(), inside(), flight()]) {
        expect(s).toMatchObject({ ok: false });
        const error = (s as { value: unknown }).value;
        expect(error).toBeInstanceOf(AbortedError);
        expect((error as Error).cause).toBe(reason);
      }
      expect(ran).toBe(0);
      expect(ends).toHaveLength(3);
      expect(inFlight(pool)).toBe(0);
      await pool.close();
    });
  }

  for (const [name, signal] of [
    ['AbortSignal.abort(r)', () => AbortSignal.abort('r')],
    ['AbortSignal.any([AbortSignal.abort(r)])', () => AbortSignal.any([AbortSignal.abort('r')])],
    ['an aborted subclass controller', () => { const c = new MyController(); c.abort('r'); return c.signal; }],
  ] as const) {
    it(`already aborted, ${name}: AbortedError('r') at once, neither hook nor fn run`, async () => {
      const pool = new ClientPool<string>();
      let hooked = 0;
      let ran = 0;
      pool.use({ name: 'h', around: (_s, next) => (hooked++, next()) });
      pool.add('a', { name: 'a' });
      const error = await pool.run(() => (ran++, 'v'), { signal: signal() }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(AbortedError);
      expect((error as Error).cause).toBe('r');
      expect([hooked, ran]).toEqual([0, 0]);
      await pool.close();
    });
  }

  it('control: an object with only AbortSignal\'s prototype is refused', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'h', around: (_s, next) => next() });
    pool.add('a', { name: 'a' });
    await expect(pool.run(() => 'v', { signal: Object.create(AbortSignal.prototype) as AbortSignal })).rejects.toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('close({ signal: AbortSignal.any([c]) }) aborting mid-way destroys: the attempt gets the reason', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'h', around: (_s, next) => next() });
    pool.add('a', { name: 'a' });
    const flight = state(pool.run(honour));
    await turns(2);
    const c = new MyController();
    const closing = state(pool.close({ signal: AbortSignal.any([c.signal]) }));
    await turns(2);
    expect(closing()).toBe('pending');
    c.abort('late');
    await turns(5);
    expect(closing()).toEqual({ ok: true, value: undefined });
    expect(flight()).toMatchObject({ ok: false, value: { code: 'ERR_POOL_CLOSED', cause: 'late' } });
  });
});
