// run() refuses bad options with the same InvalidOptionError as before options were read into a copy:
// the code, the option it names, the message, the cause; and, with several bad options, the same one.
import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, type RunOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

interface Fake {
  readonly id: string;
}

useUnhandledGuard({ time: 'real' });

const thrown = new Error('boom');
const throwingGetter = (key: string, rest: object = {}): object =>
  Object.defineProperty({ ...rest }, key, {
    enumerable: true,
    get: () => {
      throw thrown;
    },
  });

async function refusal(options: unknown): Promise<InvalidOptionError> {
  const pool = new ClientPool<Fake>();
  pool.add({ id: 'a' }, { name: 'a' });
  let calls = 0;
  const error = await pool.run(() => ++calls, options as RunOptions<Fake>).then(
    () => undefined,
    (e: unknown) => e,
  );
  await pool.close();
  expect(calls).toBe(0);
  expect(error).toBeInstanceOf(InvalidOptionError);
  expect((error as InvalidOptionError).code).toBe('ERR_INVALID_OPTION');
  return error as InvalidOptionError;
}

// [what, options, the option named, a piece of the message] (as 5794fe0 reports them, before the copy).
const ONE_BAD: [string, unknown, string, string][] = [
  ['a misspelt key', { timout: 5 }, 'run options.timout', 'misspelt or misplaced'],
  ['the first of two unknown keys', { retries: 1, timout: 5 }, 'run options.retries', 'misspelt or misplaced'],
  ['a signal that is not an AbortSignal', { signal: 'x' }, 'signal', 'an AbortSignal, got "x"'],
  ['an empty method', { method: '' }, 'method', 'a non-empty string'],
  ['a key that is not a string', { key: 1 }, 'key', 'a string, got 1'],
  ['a traceId that is not a string', { traceId: 3 }, 'traceId', 'a non-empty string'],
  ['an empty coalesce key', { coalesce: '' }, 'coalesce', 'a non-empty string'],
  ['a negative minHeight', { minHeight: -1 }, 'minHeight', 'non-negative safe integer'],
  ['minHeight with coalesce', { minHeight: 1, coalesce: 'k' }, 'minHeight', 'left out when coalesce is given'],
  ['cache without coalesce', { cache: { ttl: 1 } }, 'cache', 'given with a coalesce key'],
  ['a negative maxWait', { maxWait: -1 }, 'maxWait', 'a duration in ms >= 0'],
  ['a zero timeout', { timeout: 0 }, 'timeout', 'a duration in ms > 0'],
  ['a NaN deadline', { deadline: Number.NaN }, 'deadline', 'a duration in ms > 0'],
  ['an unknown strategy name', { strategy: 'nope' }, 'strategy', ''],
  ['a negative cost', { cost: { tokens: -1 } }, 'cost.tokens', 'a number from 0'],
  ['an unknown priority', { priority: 'urgent' }, 'priority', ''],
  ['bad retry attempts', { retry: { attempts: -1 } }, 'retry.attempts', ''],
  ['a negative hedge delay', { hedge: { delay: -1 } }, 'hedge.delay', ''],
  ['an array', [], 'run options', 'an options object'],
  ['a string', 'x', 'run options', 'an options object'],
];

describe('one bad run option is refused naming it, as before the copy', () => {
  it.each(ONE_BAD)('%s', async (_what, options, option, message) => {
    const error = await refusal(options);
    expect(error.option).toBe(option);
    expect(error.message).toContain(message);
    expect(error.cause).toBeUndefined();
  });
});

// [what, options, the option named] (as 5794fe0 reports them).
const SEVERAL_BAD: [string, unknown, string][] = [
  ['an unknown key before a bad timeout', { timeout: 0, timout: 5 }, 'run options.timout'],
  ['a bad signal before a bad timeout', { timeout: 0, signal: 'x' }, 'signal'],
  ['a bad method before a bad key', { key: 1, method: 2 }, 'method'],
  ['a bad maxWait before a bad cost', { cost: 5, maxWait: -1 }, 'maxWait'],
  ['a bad timeout before a bad priority', { priority: 'x', timeout: -1 }, 'timeout'],
  ['a bad timeout before a bad retry', { retry: 5, timeout: -1 }, 'timeout'],
  ['a bad retry before a bad hedge', { hedge: 5, retry: 5 }, 'retry'],
];

describe('of several bad run options, the same one is reported as before the copy', () => {
  it.each(SEVERAL_BAD)('%s', async (_what, options, option) => {
    expect((await refusal(options)).option).toBe(option);
  });
});

describe('an option that cannot be read is reported with what it threw as cause', () => {
  it.each(['signal', 'method', 'timeout', 'cost', 'priority', 'retry', 'hedge'])('a %s getter that throws', async (key) => {
    const error = await refusal(throwingGetter(key));
    expect(error.option).toBe('run options');
    expect(error.cause).toBe(thrown);
  });

  // Since the copy, every option is read before any is checked: an option that cannot be read is
  // reported before a bad value of an option checked earlier (5794fe0 reported the bad value).
  it.each([
    ['hedge', { signal: 'x' }],
    ['retry', { timeout: -1 }],
    ['priority', { method: '' }],
  ] as const)('a throwing %s getter is reported before a bad value of another option', async (key, rest) => {
    const error = await refusal(throwingGetter(key, rest));
    expect(error.option).toBe('run options');
    expect(error.cause).toBe(thrown);
  });
});
