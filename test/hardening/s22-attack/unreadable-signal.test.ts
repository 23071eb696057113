import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, isClientPoolError } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22 #4, fixed in session 22): a `signal` that passes `instanceof AbortSignal` but cannot be read
// (Object.create(AbortSignal.prototype): its `aborted` getter throws ERR_INVALID_THIS). Without hooks
// the caller gets the raw TypeError, not a clientpool error; with an around hook a CallbackError that
// blames "an around hook", though no hook threw. docs/call-pipeline.md: "options that cannot be read (a
// Proxy, a getter that throws) are [an InvalidOptionError] too, what was thrown as its cause"; README:
// the caller always gets a clientpool error.

useUnhandledGuard({ time: 'real', quietWarnings: true });

function fakeSignal(): AbortSignal {
  return Object.create(AbortSignal.prototype) as AbortSignal;
}

describe('a signal whose aborted getter throws', () => {
  it('no hook: InvalidOptionError, not a raw TypeError', async () => {
    const p = new ClientPool<string>();
    p.add('a', { name: 'a' });
    let ran = 0;
    const seen = state(p.run(() => ++ran, { signal: fakeSignal() }));
    await turns();
    const error = (seen() as { value: unknown }).value;
    expect(isClientPoolError(error)).toBe(true);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(ran).toBe(0);
  });

  it('with an around hook: InvalidOptionError, no hook blamed', async () => {
    const p = new ClientPool<string>();
    let hooked = 0;
    p.use({ name: 'h', around: (_s, next) => (hooked++, next()) });
    p.add('a', { name: 'a' });
    const seen = state(p.run(() => 'v', { signal: fakeSignal() }));
    await turns();
    expect((seen() as { value: unknown }).value).toBeInstanceOf(InvalidOptionError);
    expect(hooked).toBe(0);
  });

  it('a signal whose addEventListener throws, with a deadline and a hook: InvalidOptionError, no timer left', async () => {
    const timeouts = (): number => process.getActiveResourcesInfo().filter((k) => k === 'Timeout').length;
    const base = timeouts();
    const p = new ClientPool<string>();
    p.use({ name: 'h', around: (_s, next) => next() });
    p.add('a', { name: 'a' });
    const signal = Object.create(AbortSignal.prototype, {
      aborted: { value: false },
      reason: { value: undefined },
      addEventListener: { value: () => { throw new Error('no listeners here'); } },
      removeEventListener: { value: () => undefined },
    }) as AbortSignal;
    try {
      const seen = state(p.run(() => 'v', { signal, deadline: 1_000_000 }));
      await turns(5);
      // The held call stays on the deadline queue (HeldCalls.hold queued it before join threw): its timer
      // keeps the process alive for 1 000 s, or until close().
      expect(timeouts() - base).toBe(0);
      expect((seen() as { value: unknown }).value).toBeInstanceOf(InvalidOptionError);
    } finally {
      await p.close();
    }
  });

  it('control: a Proxy signal whose prototype read throws is refused with InvalidOptionError', async () => {
    const p = new ClientPool<string>();
    p.add('a', { name: 'a' });
    const proxy = new Proxy({}, { getPrototypeOf: () => { throw new Error('no'); } });
    const seen = state(p.run(() => 'v', { signal: proxy as AbortSignal }));
    await turns();
    expect((seen() as { value: unknown }).value).toBeInstanceOf(InvalidOptionError);
  });
});
