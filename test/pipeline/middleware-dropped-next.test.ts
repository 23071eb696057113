import { describe, expect, it } from 'vitest';
import { ClientCallError, ClientPool, hasErrorCode, type MiddlewareFunction } from '../../src/index.js';
import { unhandledDuring } from '../helpers/unhandled.js';

type Client = { get(): Promise<string> };
const failing: Client = { get: () => Promise.reject(new Error('upstream 503')) };


/** The caller's error and what was left unhandled, for a pool whose one middleware is `middleware`. */
async function runThrough(middleware: MiddlewareFunction<Client>): Promise<{ error: unknown; unhandled: unknown[]; inFlight: number }> {
  const pool = new ClientPool<Client>();
  pool.add(failing);
  pool.use(middleware);
  let error: unknown;
  const unhandled = await unhandledDuring(async () => {
    error = await pool.run((c) => c.get()).catch((e: unknown) => e);
  });
  const inFlight = pool.members()[0]!.inFlight;
  await pool.close();
  return { error, unhandled, inFlight };
}

describe('a middleware that starts next() and does not return its promise leaves nothing unhandled', () => {
  it('throws synchronously after next(): the caller gets its error, typed, and the rejected chain below is handled', async () => {
    const { error, unhandled, inFlight } = await runThrough((call, next) => {
      const result = next(call);
      if ((call as unknown as { labels: { method: string } }).labels.method === '') return Promise.resolve('never');
      return result;
    });
    expect(error).toBeInstanceOf(ClientCallError);
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(unhandled).toEqual([]);
    expect(inFlight).toBe(0);
  });

  it('an async middleware that awaits something of its own that fails: the caller gets that failure, typed', async () => {
    const { error, unhandled, inFlight } = await runThrough(async (call, next) => {
      const result = next(call);
      await Promise.reject(new Error('audit log down'));
      return result;
    });
    expect(hasErrorCode(error, 'ERR_CLIENT_CALL')).toBe(true);
    expect(((error as Error).cause as Error).message).toBe('audit log down');
    expect(unhandled).toEqual([]);
    expect(inFlight).toBe(0);
  });

  it('returns a promise of its own that resolves before the chain below rejects: the caller gets its value', async () => {
    const { error, unhandled } = await runThrough((call, next) => {
      void next(call);
      return Promise.resolve('cached');
    });
    expect(error).toBe('cached');
    expect(unhandled).toEqual([]);
  });

  it('calls next() after it returned (after an await): the late chain is handled too', async () => {
    const { unhandled, inFlight } = await runThrough(async (call, next) => {
      await Promise.resolve();
      const result = next(call);
      await Promise.reject(new Error('after the late next'));
      return result;
    });
    expect(unhandled).toEqual([]);
    expect(inFlight).toBe(0);
  });

  it('two middleware, the inner one dropping its next(): handled, and the outer one sees the inner error', async () => {
    const pool = new ClientPool<Client>();
    pool.add(failing);
    pool.use((call, next) => next(call));
    pool.use(async (call, next) => {
      const result = next(call);
      await Promise.reject(new Error('inner bookkeeping'));
      return result;
    });
    let error: unknown;
    const unhandled = await unhandledDuring(async () => {
      error = await pool.run((c) => c.get()).catch((e: unknown) => e);
    });
    expect(((error as Error).cause as Error).message).toBe('inner bookkeeping');
    expect(unhandled).toEqual([]);
    await pool.close();
  });

  it('a middleware that returns next()\'s own promise still passes the chain\'s failure on, as it is', async () => {
    const { error, unhandled } = await runThrough((call, next) => next(call));
    expect(((error as Error).cause as Error).message).toBe('upstream 503');
    expect(unhandled).toEqual([]);
  });
});
