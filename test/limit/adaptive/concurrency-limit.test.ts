import { describe, expect, it } from 'vitest';
import { AimdLimit } from '../../../src/limit/adaptive/aimd.js';
import { adaptiveLimit, isAdaptiveLimitOptions } from '../../../src/limit/adaptive/concurrency-limit.js';
import { Gradient2Limit } from '../../../src/limit/adaptive/gradient2.js';
import { expectInvalid, thrownBy } from '../../helpers/bad-input.js';

describe('adaptiveLimit', () => {
  it('makes the controller its adaptive key names, with the documented defaults', () => {
    const aimd = adaptiveLimit('maxInFlight', { adaptive: 'aimd' });
    expect(aimd).toBeInstanceOf(AimdLimit);
    expect(aimd).toMatchObject({ limit: 20, min: 1, max: 1000, backoff: 0.9, timeout: 5000 });
    const gradient2 = adaptiveLimit('maxInFlight', { adaptive: 'gradient2' });
    expect(gradient2).toBeInstanceOf(Gradient2Limit);
    expect(gradient2).toMatchObject({ limit: 20, min: 1, max: 1000, smoothing: 0.2, rttTolerance: 1.5, longWindow: 600, windowMs: 1000, windowSamples: 10 });
  });

  it('makes a fresh controller at each call: clients do not share one state', () => {
    const options = { adaptive: 'aimd', initial: 10 } as const;
    const a = adaptiveLimit('maxInFlight', options);
    const b = adaptiveLimit('maxInFlight', options);
    a.onSample({ rttMs: 10, inFlight: 10, didDrop: true, now: 10 });
    expect([a.limit, b.limit]).toEqual([9, 10]);
  });

  it('brings a default initial into [min, max]: { max: 8 } alone is valid and starts at 8', () => {
    expect(adaptiveLimit('maxInFlight', { adaptive: 'gradient2', max: 8 }).limit).toBe(8);
    expect(adaptiveLimit('maxInFlight', { adaptive: 'aimd', min: 30 }).limit).toBe(30);
    expect(adaptiveLimit('maxInFlight', { adaptive: 'aimd', min: 2000 }).max).toBe(2000);
  });

  it('takes min = max = initial: a fixed limit through the adaptive shape', () => {
    const limit = adaptiveLimit('maxInFlight', { adaptive: 'aimd', min: 5, max: 5 });
    limit.onSample({ rttMs: 10, inFlight: 5, didDrop: true, now: 10 });
    expect(limit.limit).toBe(5);
  });

  const proxyThatThrows = new Proxy(
    {},
    {
      get: () => {
        throw new Error('trap');
      },
      ownKeys: () => {
        throw new Error('trap');
      },
    },
  );
  const bad: [string, unknown, string, unknown][] = [
    ['not an object', 8.5, 'maxInFlight', 8.5],
    ['null', null, 'maxInFlight', null],
    ['an array', [], 'maxInFlight', []],
    ['no adaptive', { min: 1 }, 'maxInFlight.adaptive', undefined],
    ['an unknown adaptive', { adaptive: 'vegas' }, 'maxInFlight.adaptive', 'vegas'],
    ['an unknown key', { adaptive: 'aimd', smoothing: 0.2 }, 'maxInFlight.smoothing', 0.2],
    ['a misspelt key', { adaptive: 'gradient2', maxx: 8 }, 'maxInFlight.maxx', 8],
    ['min 0', { adaptive: 'aimd', min: 0 }, 'maxInFlight.min', 0],
    ['min NaN', { adaptive: 'aimd', min: Number.NaN }, 'maxInFlight.min', Number.NaN],
    ['min negative', { adaptive: 'gradient2', min: -1 }, 'maxInFlight.min', -1],
    ['min not an integer', { adaptive: 'gradient2', min: 1.5 }, 'maxInFlight.min', 1.5],
    ['min a string', { adaptive: 'gradient2', min: '2' }, 'maxInFlight.min', '2'],
    ['max Infinity', { adaptive: 'aimd', max: Infinity }, 'maxInFlight.max', Infinity],
    ['max past 2^31-1', { adaptive: 'aimd', max: 2 ** 31 }, 'maxInFlight.max', 2 ** 31],
    ['max below min', { adaptive: 'aimd', min: 10, max: 5 }, 'maxInFlight.max', 5],
    ['initial below min', { adaptive: 'gradient2', min: 4, initial: 2 }, 'maxInFlight.initial', 2],
    ['initial above max', { adaptive: 'gradient2', max: 8, initial: 20 }, 'maxInFlight.initial', 20],
    ['initial NaN', { adaptive: 'aimd', initial: Number.NaN }, 'maxInFlight.initial', Number.NaN],
    ['aimd backoff 1', { adaptive: 'aimd', backoff: 1 }, 'maxInFlight.backoff', 1],
    ['aimd backoff 0.4', { adaptive: 'aimd', backoff: 0.4 }, 'maxInFlight.backoff', 0.4],
    ['aimd backoff NaN', { adaptive: 'aimd', backoff: Number.NaN }, 'maxInFlight.backoff', Number.NaN],
    ['aimd timeout 0', { adaptive: 'aimd', timeout: 0 }, 'maxInFlight.timeout', 0],
    ['aimd timeout negative', { adaptive: 'aimd', timeout: -5 }, 'maxInFlight.timeout', -5],
    ['aimd timeout Infinity', { adaptive: 'aimd', timeout: Infinity }, 'maxInFlight.timeout', Infinity],
    ['gradient2 smoothing 0', { adaptive: 'gradient2', smoothing: 0 }, 'maxInFlight.smoothing', 0],
    ['gradient2 smoothing 1.5', { adaptive: 'gradient2', smoothing: 1.5 }, 'maxInFlight.smoothing', 1.5],
    ['gradient2 smoothing NaN', { adaptive: 'gradient2', smoothing: Number.NaN }, 'maxInFlight.smoothing', Number.NaN],
    ['gradient2 rttTolerance 0.9', { adaptive: 'gradient2', rttTolerance: 0.9 }, 'maxInFlight.rttTolerance', 0.9],
    ['gradient2 rttTolerance Infinity', { adaptive: 'gradient2', rttTolerance: Infinity }, 'maxInFlight.rttTolerance', Infinity],
    ['gradient2 longWindow 0', { adaptive: 'gradient2', longWindow: 0 }, 'maxInFlight.longWindow', 0],
    ['gradient2 longWindow 1.5', { adaptive: 'gradient2', longWindow: 1.5 }, 'maxInFlight.longWindow', 1.5],
    ['gradient2 queueSize negative', { adaptive: 'gradient2', queueSize: -1 }, 'maxInFlight.queueSize', -1],
    ['gradient2 queueSize NaN', { adaptive: 'gradient2', queueSize: Number.NaN }, 'maxInFlight.queueSize', Number.NaN],
    ['gradient2 queueSize a string', { adaptive: 'gradient2', queueSize: '4' }, 'maxInFlight.queueSize', '4'],
    ['gradient2 windowMs negative', { adaptive: 'gradient2', windowMs: -1 }, 'maxInFlight.windowMs', -1],
    ['gradient2 windowMs NaN', { adaptive: 'gradient2', windowMs: Number.NaN }, 'maxInFlight.windowMs', Number.NaN],
    ['gradient2 windowSamples 0', { adaptive: 'gradient2', windowSamples: 0 }, 'maxInFlight.windowSamples', 0],
  ];
  it.each(bad)('refuses %s with InvalidOptionError naming the option and the value', (_label, value, option, got) => {
    expectInvalid(
      thrownBy(() => adaptiveLimit('maxInFlight', value)),
      option,
      got,
    );
  });

  it('refuses an options object whose traps throw, naming the option, with what was thrown as the cause', () => {
    const error = thrownBy(() => adaptiveLimit('maxInFlight', proxyThatThrows));
    expectInvalid(error, 'maxInFlight');
    expect((error as Error).cause).toEqual(new Error('trap'));
  });

  it('names the option under the prefix it is given', () => {
    expectInvalid(
      thrownBy(() => adaptiveLimit('clients[2].maxInFlight', { adaptive: 'aimd', min: 0 })),
      'clients[2].maxInFlight.min',
      0,
    );
  });

  it('keeps what a getter threw as the cause', () => {
    const cause = new Error('getter');
    const options = {
      adaptive: 'aimd',
      get min(): number {
        throw cause;
      },
    };
    const error = thrownBy(() => adaptiveLimit('maxInFlight', options));
    expectInvalid(error, 'maxInFlight');
    expect((error as Error).cause).toBe(cause);
  });
});

describe('isAdaptiveLimitOptions', () => {
  it.each([[{ adaptive: 'aimd' }], [{ adaptive: 'gradient2', min: 2 }], [{ adaptive: 'nonsense' }]])('is true for an object with an adaptive key: %j', (value) => {
    expect(isAdaptiveLimitOptions(value)).toBe(true);
  });

  it.each([[8], [undefined], [null], [{ min: 2 }], [[]], ['aimd']])('is false for %j: a static maxInFlight or no options', (value) => {
    expect(isAdaptiveLimitOptions(value)).toBe(false);
  });

  it('is false, and does not throw, for a Proxy whose traps throw', () => {
    const proxy = new Proxy(
      {},
      {
        has: () => {
          throw new Error('trap');
        },
      },
    );
    expect(isAdaptiveLimitOptions(proxy)).toBe(false);
  });
});
