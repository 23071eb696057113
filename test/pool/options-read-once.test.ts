import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, PoolClosedError, type CallEnd, type RunOptions } from '../../src/index.js';
import type { CallMessage } from '../../src/diagnostics/channels.js';

// Whatever watches a call (an `onCallEnd` hook, an `around` hook, a `clientpool:call` subscriber), its
// options are read once: a getter that throws on its first read refuses the call, as it does with nothing
// watching, and is not read again to run it.

type Watch = 'nothing' | 'onCallEnd' | 'around' | 'trace' | 'all';
const WATCHES: Watch[] = ['nothing', 'onCallEnd', 'around', 'trace', 'all'];
const startChannel = 'tracing:clientpool:call:start';
const traced: CallMessage[] = [];
const onStart = (message: unknown): void => {
  traced.push(message as CallMessage);
};

function watchedPool(watch: Watch, ends: CallEnd<string>[] = []): ClientPool<string> {
  const pool = new ClientPool<string>();
  if (watch === 'onCallEnd' || watch === 'all') pool.use({ name: 'ends', onCallEnd: (end) => void ends.push(end) });
  if (watch === 'around' || watch === 'all') pool.use({ name: 'around', around: (_scope, next) => next() });
  if (watch === 'trace' || watch === 'all') subscribe(startChannel, onStart);
  pool.add('a');
  return pool;
}

/** Options whose `method` getter throws on its first read only, and counts its reads. */
function throwsOnce(): { options: RunOptions<string>; reads: () => number } {
  let reads = 0;
  const options = {
    get method(): string {
      reads++;
      if (reads === 1) throw new Error('first read fails');
      return `m${reads}`;
    },
  };
  return { options, reads: () => reads };
}

afterEach(() => {
  unsubscribe(startChannel, onStart);
  traced.length = 0;
});

describe('run options are read once per call, whatever watches it', () => {
  it.each(WATCHES)('watched by %s: a getter that throws on its first read refuses the call, with what it threw as the cause, and the function never runs', async (watch) => {
    const pool = watchedPool(watch);
    const { options, reads } = throwsOnce();
    let runs = 0;
    const error = await pool.run((client) => {
      runs++;
      return client;
    }, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(((error as Error).cause as Error).message).toBe('first read fails');
    expect(runs).toBe(0);
    expect(reads()).toBe(2); // The read that threw, and the refusal's description of what it was given: no hook reads them.
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it.each(WATCHES)('watched by %s: a closing pool refuses refused options with PoolClosedError, as with nothing watching', async (watch) => {
    const pool = watchedPool(watch);
    const closing = pool.close();
    await expect(pool.run((client) => client, throwsOnce().options)).rejects.toBeInstanceOf(PoolClosedError);
    await closing;
  });

  it.each(WATCHES)('watched by %s: a bad fn is refused before refused options are', async (watch) => {
    const pool = watchedPool(watch);
    const error = await pool.run(5 as never, throwsOnce().options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).message).toMatch(/^fn /);
    await pool.close();
  });

  it.each(WATCHES)('watched by %s: options that can be read have their getters run once, whatever reads the label', async (watch) => {
    const pool = watchedPool(watch);
    let reads = 0;
    const options = {
      get method(): string {
        reads++;
        return 'get';
      },
    };
    const methods: string[] = [];
    await pool.run((client, call) => {
      methods.push(call.method);
      return client;
    }, options);
    expect(reads).toBe(1);
    expect(methods).toEqual(['get']);
    await pool.close();
  });

  it('an onCallEnd hook hears the refusal the caller got, labelled by a plain method property and never by running a getter', async () => {
    const ends: CallEnd<string>[] = [];
    const pool = watchedPool('onCallEnd', ends);
    const withLabel = { method: 'get', timeout: -1 };
    const first = await pool.run((client) => client, withLabel).catch((e: unknown) => e);
    const { options, reads } = throwsOnce();
    const second = await pool.run((client) => client, options).catch((e: unknown) => e);
    expect(ends.map((end) => [end.method, end.error, end.options])).toEqual([
      ['get', first, withLabel],
      ['unknown', second, options],
    ]);
    expect(ends[1]!.options).toBe(options); // Refused: as given, not a copy.
    expect(reads()).toBe(2); // The read that threw, and the refusal's description of what it was given.
    await pool.close();
  });

  it('an around hook is not run for a refused call (it has no scope to see), even one that would throw: the caller gets the refusal', async () => {
    const pool = new ClientPool<string>();
    let arounds = 0;
    pool.use({
      name: 'around',
      around: () => {
        arounds++;
        throw new Error('boom');
      },
    });
    pool.add('a');
    const options = {
      method: 'get',
      get timeout(): number {
        throw new Error('no timeout');
      },
    };
    const error = await pool.run((client) => client, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(arounds).toBe(0);
    await pool.close();
  });

  it('a clientpool:call subscriber is given the copy the call runs with, and the label read off it', async () => {
    const pool = watchedPool('trace');
    const options = { method: 'get' };
    await pool.run((client) => client, options);
    expect(traced).toHaveLength(1);
    expect(traced[0]!.options).toMatchObject(options);
    expect(traced[0]!.options).not.toBe(options);
    expect(traced[0]!.method).toBe('get');
    await pool.close();
  });
});
