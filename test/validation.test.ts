import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, type AddOptions, type PoolOptions, type RunOptions } from '../src/index.js';

type Fake = { readonly id: string };

const badPoolOptions: [string, unknown, RegExp][] = [
  ['strategy unknown', { strategy: 'fastest' }, /strategy must be one of "round-robin", .* got "fastest"/],
  ['strategy wrong type', { strategy: 42 }, /strategy must be .* got 42/],
  ['maxFailures 0', { breaker: { maxFailures: 0 } }, /breaker.maxFailures must be an integer >= 1, got 0/],
  ['maxFailures NaN', { breaker: { maxFailures: Number.NaN } }, /breaker.maxFailures must be an integer >= 1, got NaN/],
  ['maxFailures fractional', { breaker: { maxFailures: 1.5 } }, /got 1.5/],
  ['cooldown negative', { breaker: { cooldown: -1 } }, /breaker.cooldown must be a duration in ms >= 0 and <= 2147483647, got -1/],
  ['cooldown Infinity', { breaker: { cooldown: Infinity } }, /breaker.cooldown .* got Infinity/],
  ['halfOpenProbes 0', { breaker: { halfOpenProbes: 0 } }, /breaker.halfOpenProbes must be an integer >= 1, got 0/],
  ['cooldownMultiplier < 1', { breaker: { cooldownMultiplier: 0.5 } }, /breaker.cooldownMultiplier must be a finite number >= 1, got 0.5/],
  ['breaker wrong type', { breaker: 'yes' }, /breaker must be an options object, got "yes"/],
  ['timeout 0', { timeout: 0 }, /timeout must be a duration in ms > 0 and <= 2147483647, got 0/],
  ['timeout string', { timeout: '5s' }, /timeout must be a duration in ms > 0 and <= 2147483647, got "5s"/],
  ['isFailure not a function', { isFailure: true }, /isFailure must be a function, got true/],
  ['random not a function', { random: 4 }, /random must be a function, got 4/],
  ['middleware not an array', { middleware: {} }, /middleware must be an array/],
  ['options not an object', 'fast', /options must be an options object, got "fast"/],
];

const badAddOptions: [string, unknown, RegExp][] = [
  ['weight NaN', { weight: Number.NaN }, /weight must be a number from 0.000001 to 1000000, got NaN/],
  ['weight 0', { weight: 0 }, /weight must be a number from 0.000001 to 1000000, got 0/],
  ['weight 1e308 (would overflow a weighted sum)', { weight: 1e308 }, /weight must be a number from 0.000001 to 1000000, got 1e\+308/],
  ['weight 5e-324 (would underflow)', { weight: 5e-324 }, /weight must be a number from 0.000001 to 1000000, got 5e-324/],
  ['weight negative', { weight: -2 }, /got -2/],
  ['weight Infinity', { weight: Infinity }, /got Infinity/],
  ['weight string', { weight: '2' }, /got "2"/],
  ['name empty', { name: '' }, /name must be a non-empty string, got ""/],
  ['name number', { name: 7 }, /name must be a non-empty string, got 7/],
  ['close not a function', { close: 'x' }, /close must be a function, got "x"/],
];

const badRunOptions: [string, unknown, RegExp][] = [
  ['timeout NaN', { timeout: Number.NaN }, /timeout must be a duration in ms > 0 and <= 2147483647, got NaN/],
  ['timeout negative', { timeout: -5 }, /got -5/],
  ['signal not a signal', { signal: {} }, /signal must be an AbortSignal/],
  ['strategy unknown', { strategy: 'best' }, /strategy must be one of/],
];

describe('bad input gives InvalidOptionError naming the option and value', () => {
  it.each(badPoolOptions)('new ClientPool: %s', (_label, options, message) => {
    const create = (): unknown => new ClientPool<Fake>(options as PoolOptions<Fake>);
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(message);
  });

  it.each(badAddOptions)('pool.add: %s, and the pool keeps working', async (_label, options, message) => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'ok' });
    const add = (): unknown => pool.add({ id: 'bad' }, options as AddOptions<Fake>);
    expect(add).toThrow(InvalidOptionError);
    expect(add).toThrow(message);
    expect(pool.size).toBe(1);
    await expect(pool.run((client) => client.id)).resolves.toBe('ok');
  });

  it.each(badRunOptions)('pool.run: %s, and the pool keeps working', async (_label, options, message) => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'ok' });
    const error = await pool.run(() => 1, options as RunOptions<Fake>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(message);
    expect((error as InvalidOptionError).code).toBe('ERR_INVALID_OPTION');
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, failures: 0 });
    await expect(pool.run((client) => client.id)).resolves.toBe('ok');
  });

  it('a breaker factory is accepted and used per client', async () => {
    let made = 0;
    const pool = new ClientPool<Fake>({
      breaker: () => {
        made++;
        return { state: { kind: 'closed' }, acquire: () => 'call', canAcquire: () => true, success() {}, failure() {}, release() {} };
      },
    });
    pool.add({ id: 'a' });
    pool.add({ id: 'b' });
    expect(made).toBe(2);
    await expect(pool.run((client) => client.id)).resolves.toBe('a');
  });
});
