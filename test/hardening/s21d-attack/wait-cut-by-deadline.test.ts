import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type CallScope } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns } from '../../helpers/promise-state.js';
import { shape } from '../../helpers/watched-pool.js';

// Pins: a call waiting for a client slot (maxInFlight 1, maxWait 1000) whose wait the deadline cuts
// gives the same error with a pass-through hook as without one ("call deadline of 100 ms exceeded", no
// client named either way), also when the hook let it go at a fractional clock reading.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
const pools: ClientPool<string>[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.destroy()));
});

type H = (s: CallScope<string>, next: () => Promise<unknown>) => Promise<unknown>;
async function waitCase(hook: H | undefined, openAt: number | undefined): Promise<unknown> {
  const clock = { t: 0 };
  const p = new ClientPool<string>({ clock: { now: () => clock.t }, maxWait: 1000 });
  pools.push(p);
  const g = gate();
  if (hook) p.use({ name: 'h', around: async (s, next) => { if (s.options.deadline !== undefined && openAt !== undefined) await g.promise; return hook(s, next); } });
  p.add('a', { name: 'a', maxInFlight: 1 });
  void p.run(() => new Promise(() => undefined)).catch(() => undefined);
  await turns();
  const seen = state(p.run(() => 'second', { deadline: 100 }));
  for (let i = 1; i <= 104; i++) {
    // With `openAt` (say 10.7), the clock reads that far off the whole ms from the gate's opening until 99.
    clock.t = openAt !== undefined && i > 10 && i < 100 ? i + openAt - 11 : i;
    if (i === 11 && openAt !== undefined) {
      g.open();
      await turns();
    }
    await vi.advanceTimersByTimeAsync(1);
    await turns(2);
  }
  const s = seen();
  return s === 'pending' ? s : shape(s);
}

describe('a wait for a slot cut by the deadline', () => {
  it('no hook vs pass-through (whole ms)', async () => {
    const base = await waitCase(undefined, undefined);
    const hooked = await waitCase((_s, next) => next(), undefined);
    expect(hooked).toEqual(base);
  });
  it('no hook vs hook released at 10.7', async () => {
    const base = await waitCase(undefined, undefined);
    const hooked = await waitCase((_s, next) => next(), 10.7);
    expect(hooked).toEqual(base);
  });
});
