import { describe, expect, expectTypeOf, it } from 'vitest';
import * as errors from '../src/errors.js';
import {
  AllCircuitsOpenError,
  ClientCallError,
  ClientPanicError,
  ClientPoolError,
  hasErrorCode,
  InvalidOptionError,
  isClientPoolError,
  TimeoutError,
  UnknownClientError,
  type UnavailableClient,
} from '../src/errors.js';
import { CodegenError } from '../src/codegen/errors.js';

/** A second copy of src/errors.ts, as the CJS build (or a second install) is to the ESM one. */
async function otherBuild(): Promise<typeof errors> {
  // The query makes Vite load the file again as a distinct module, with classes of its own.
  const specifier = '../src/errors.js?other-build';
  return (await import(specifier)) as typeof errors;
}

/** An object that throws on every operation a check could try. */
function hostileProxy(): object {
  const fail = (): never => {
    throw new Error('trap');
  };
  return new Proxy({}, { get: fail, has: fail, ownKeys: fail, getPrototypeOf: fail, getOwnPropertyDescriptor: fail });
}

describe('instanceof across builds', () => {
  it('an error of another build is an instance of the class with its code, and of ClientPoolError', async () => {
    const other = await otherBuild();
    expect(other.TimeoutError).not.toBe(TimeoutError);
    const error: unknown = new other.TimeoutError(100);
    expect(error instanceof TimeoutError).toBe(true);
    expect(error instanceof ClientPoolError).toBe(true);
    expect(error instanceof ClientCallError).toBe(false);
    expect(new TimeoutError(100) instanceof other.TimeoutError).toBe(true);
  });

  it('a branded look-alike (name, code, brand) is an instance of the class with that code only', () => {
    const lookAlike = { [Symbol.for('clientpool.error')]: true, name: 'AllCircuitsOpenError', code: 'ERR_ALL_CIRCUITS_OPEN', message: 'm' };
    expect(lookAlike instanceof AllCircuitsOpenError).toBe(true);
    expect(lookAlike instanceof ClientPoolError).toBe(true);
    expect(lookAlike instanceof TimeoutError).toBe(false);
  });

  it('an unbranded value with the same name and code is not an instance', () => {
    const unbranded = Object.assign(new Error('m'), { name: 'TimeoutError', code: 'ERR_TIMEOUT' });
    expect(unbranded instanceof TimeoutError).toBe(false);
    expect(unbranded instanceof ClientPoolError).toBe(false);
  });

  it('within one build, instanceof follows the class: a TimeoutError is not a ClientCallError', () => {
    const timeout = new TimeoutError(1);
    expect(timeout instanceof TimeoutError).toBe(true);
    expect(timeout instanceof ClientPoolError).toBe(true);
    expect(timeout instanceof Error).toBe(true);
    expect(timeout instanceof ClientCallError).toBe(false);
  });

  it('a user subclass matches its own instances only, not every error of its parent class', async () => {
    class SlowUpstream extends TimeoutError {}
    const mine = new SlowUpstream(1);
    expect(mine instanceof SlowUpstream).toBe(true);
    expect(mine instanceof TimeoutError).toBe(true);
    expect(mine instanceof ClientPoolError).toBe(true);
    expect(new TimeoutError(1) instanceof SlowUpstream).toBe(false);
    expect(new (await otherBuild()).TimeoutError(1) instanceof SlowUpstream).toBe(false);
  });

  it('a subclass with no static code, as CodegenError, matches a branded value of its name', () => {
    const brand = Symbol.for('clientpool.error');
    expect({ [brand]: true, name: 'CodegenError', code: 'ERR_CODEGEN_NO_METHODS' } instanceof CodegenError).toBe(true);
    expect({ [brand]: true, name: 'OtherError', code: 'ERR_CODEGEN_NO_METHODS' } instanceof CodegenError).toBe(false);
    expect(new CodegenError('ERR_CODEGEN_NO_METHODS', 'm') instanceof TimeoutError).toBe(false);
  });

  it('a value that throws on every operation is an instance of nothing, and the guards return false', () => {
    const proxy = hostileProxy();
    expect(proxy instanceof TimeoutError).toBe(false);
    expect(proxy instanceof ClientPoolError).toBe(false);
    expect(isClientPoolError(proxy)).toBe(false);
    expect(hasErrorCode(proxy, 'ERR_TIMEOUT')).toBe(false);
  });

  it('a branded value whose code getter throws is not an instance of a subclass, and hasErrorCode is false', () => {
    const value = {
      [Symbol.for('clientpool.error')]: true,
      get code(): never {
        throw new Error('getter');
      },
    };
    expect(value instanceof TimeoutError).toBe(false);
    expect(hasErrorCode(value, 'ERR_TIMEOUT')).toBe(false);
  });

  it('instanceof still narrows the type', () => {
    const error: unknown = new TimeoutError(5);
    if (error instanceof TimeoutError) expectTypeOf(error).toEqualTypeOf<TimeoutError>();
    expect(error instanceof TimeoutError && error.timeoutMs).toBe(5);
  });
});

describe('AllCircuitsOpenError', () => {
  const open = (i: number): UnavailableClient => ({ name: `client-${i}`, state: 'open', retryAfterMs: 1_000 + i });

  it('names at most 10 clients, then says how many more; `clients` keeps them all', () => {
    const clients = Array.from({ length: 5_000 }, (_, i) => open(i));
    const error = new AllCircuitsOpenError(clients);
    expect(error.message).toBe(
      `all 5000 clients are unavailable: ${clients
        .slice(0, 10)
        .map((c) => `${c.name} (open, back in ${c.retryAfterMs} ms)`)
        .join(', ')} and 4990 more`,
    );
    expect(error.clients).toHaveLength(5_000);
    expect(error.retryAfterMs).toBe(1_000);
  });

  it('with 10 clients, names them all and adds nothing', () => {
    const error = new AllCircuitsOpenError(Array.from({ length: 10 }, (_, i) => open(i)));
    expect(error.message).toMatch(/client-9 \(open, back in 1009 ms\)$/);
  });

  it('cuts a very long client name', () => {
    const error = new AllCircuitsOpenError([{ name: 'x'.repeat(1_000_000), state: 'down', retryAfterMs: 0 }]);
    expect(error.message).toBe(`all 1 clients are unavailable: ${'x'.repeat(100)}… (down: failing health checks)`);
  });
});

describe('the bad value in an InvalidOptionError message', () => {
  const shown = (value: unknown): string => new InvalidOptionError('opt', 'valid', value).message.slice('opt must be valid, got '.length);
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic['self'] = cyclic;
  const throwingGetter = {
    a: 1,
    get b(): never {
      throw new Error('getter');
    },
  };
  const throwingToJSON = {
    toJSON(): never {
      throw new Error('toJSON');
    },
  };

  it.each([
    ['NaN', Number.NaN, 'NaN'],
    ['a string', 'abc', '"abc"'],
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['a bigint', 5n, '5'],
    ['a symbol', Symbol('s'), 'Symbol(s)'],
    ['a named function', function ping() {}, 'function ping'],
    ['an object', { a: 1, b: 'x' }, '{"a":1,"b":"x"}'],
    ['an array', [1, [2, 3]], '[1,[2,3]]'],
    ['a Date, through its toJSON', new Date(0), '"1970-01-01T00:00:00.000Z"'],
    ['a cycle', cyclic, '{"a":1,"self":[Circular]}'],
    ['a getter that throws', throwingGetter, '{"a":1,"b":[unreadable]}'],
    ['a toJSON that throws', throwingToJSON, '[object Object]'],
    ['a Proxy that throws on every trap', hostileProxy(), '[object]'],
    ['deep nesting', { a: { b: { c: { d: { e: 1 } } } } }, '{"a":{"b":{"c":{"d":{…}}}}}'],
  ])('%s', (_label, value, expected) => {
    expect(shown(value)).toBe(expected);
  });

  it.each([
    ['a huge string', 'x'.repeat(1_000_000)],
    ['a huge array', Array.from({ length: 1_000_000 }, (_, i) => i)],
    ['a huge typed array', new Float64Array(1_000_000)],
    ['an object with many keys', Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`key${i}`, i]))],
    ['a long key', { ['k'.repeat(1_000_000)]: 1 }],
  ])('%s is cut at about 200 characters', (_label, value) => {
    const text = shown(value);
    expect(text.length).toBeLessThanOrEqual(201);
    expect(text.endsWith('…')).toBe(true);
  });

  it('reads no more of a big array or object than the message can show', () => {
    let reads = 0;
    const counted = <T extends object>(target: T): T =>
      new Proxy(target, {
        get(object, key, receiver): unknown {
          if (typeof key === 'string' && key !== 'length' && key !== 'toJSON') reads++;
          return Reflect.get(object, key, receiver);
        },
      });
    shown(counted(Array.from({ length: 100_000 }, (_, i) => i)));
    expect(reads).toBeLessThan(200);
    reads = 0;
    shown(counted(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]))));
    expect(reads).toBeLessThan(200);
  });

  it('a revoked Proxy still gives a message', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(shown(proxy)).toBe('[object]');
  });
});

describe('messages quoting user values', () => {
  it('a ClientCallError whose cause has a message getter that throws still gets a message', () => {
    const cause = new Error('x');
    Object.defineProperty(cause, 'message', {
      get(): never {
        throw new Error('getter');
      },
    });
    expect(new ClientCallError(cause, 'a', 'get').message).toBe('get failed on client a: (unreadable message)');
  });

  it('an UnknownClientError quotes the name, cut at about 200 characters', () => {
    expect(new UnknownClientError('nope').message).toBe('the pool holds no client "nope"');
    expect(new UnknownClientError('n'.repeat(1_000_000)).message.length).toBeLessThan(250);
  });

  it('a ClientPanicError of a cyclic thrown value has a bounded message', () => {
    const thrown: Record<string, unknown> = { big: 'y'.repeat(10_000) };
    thrown['self'] = thrown;
    const error = new ClientPanicError(thrown, 'a', 'get');
    expect(error.message.length).toBeLessThan(300);
    expect(error.cause).toBe(thrown);
  });
});
