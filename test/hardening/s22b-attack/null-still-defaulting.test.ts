import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';
import { RedisTokenBucket } from '../../../src/redis/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22b #5, fixed in session 22): d33f3ce claims "null is a value for every option with a default (givenOr wherever a default
// went in before a check)", docs/call-pipeline.md: "`null` is a value, never 'not given' ... `undefined`
// alone means the default". Three options still take null as "not given" through `??`:
// - pool.proxy({ callbacks: null }): src/wrapping/proxy-options.ts `given.callbacks ?? 'refuse'` (accepted,
//   'refuse' used); `callbacks: 'x'` is refused.
// - new RedisTokenBucket({ ..., insurance: { rate: null } }) and `{ burst: null }`:
//   src/redis/redis-token-bucket.ts `insurance.rate ?? this.rate / processes`, `insurance.burst ?? ...`;
//   `insurance: { rate: 'x' }` or `-1` is refused, `insurance: null` is refused.
// Expected: InvalidOptionError naming the option, as for every sibling option (controls).
// The Redis client is a stub: the constructor sends nothing.

useUnhandledGuard({ time: 'real' });

const redis = { evalsha: () => Promise.resolve([0]), eval: () => Promise.resolve([0]), script: () => Promise.resolve('sha') } as never;
const base = { redis, key: 'k', rate: 10, burst: 10 };

function refusal(make: () => unknown): unknown {
  try {
    make();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('options that still default on null', () => {
  it('pool.proxy({ callbacks: null }): InvalidOptionError', () => {
    const pool = new ClientPool<{ get(): string }>();
    pool.add({ get: () => 'v' }, { name: 'a' });
    expect(refusal(() => pool.proxy({ callbacks: null } as never))).toBeInstanceOf(InvalidOptionError);
  });

  for (const key of ['rate', 'burst'] as const) {
    it(`new RedisTokenBucket({ insurance: { ${key}: null } }): InvalidOptionError`, () => {
      expect(refusal(() => new RedisTokenBucket({ ...base, insurance: { [key]: null } }))).toBeInstanceOf(InvalidOptionError);
    });
  }

  it('control: the sibling options refuse null, and a bad callbacks / insurance.rate is refused', () => {
    const pool = new ClientPool<{ get(): string }>();
    pool.add({ get: () => 'v' }, { name: 'a' });
    for (const key of ['label', 'include', 'exclude', 'methods', 'signal', 'run', 'commandMethods', 'commandLabel']) {
      expect(refusal(() => pool.proxy({ [key]: null })), key).toBeInstanceOf(InvalidOptionError);
    }
    expect(refusal(() => pool.proxy({ callbacks: 'x' } as never))).toBeInstanceOf(InvalidOptionError);
    for (const key of ['per', 'maxWait', 'lease', 'timeout', 'processes', 'insurance']) {
      expect(refusal(() => new RedisTokenBucket({ ...base, [key]: null })), key).toBeInstanceOf(InvalidOptionError);
    }
    expect(refusal(() => new RedisTokenBucket({ ...base, insurance: { rate: -1 } }))).toBeInstanceOf(InvalidOptionError);
  });
});
