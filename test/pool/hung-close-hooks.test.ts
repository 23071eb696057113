import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../src/index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Process warnings emitted from now on, as text. */
function recordWarnings(): string[] {
  const warnings: string[] = [];
  vi.spyOn(process, 'emitWarning').mockImplementation(((warning: string | Error, options?: { code?: string }) => {
    warnings.push(`${options?.code ?? ''} ${String(warning)}`);
  }) as typeof process.emitWarning);
  return warnings;
}

/** How `promise` stands after a few turns of the event loop: its value, its error, or 'pending'. */
async function stateOf(promise: Promise<unknown>): Promise<unknown> {
  let state: unknown = 'pending';
  promise.then(
    (value: unknown) => (state = { resolved: value }),
    (error: unknown) => (state = { rejected: error }),
  );
  // A few turns, timers included: long enough for anything not hung, however busy the machine.
  await new Promise((resolve) => setTimeout(resolve, 10));
  return state;
}

const never = (): Promise<void> => new Promise(() => {});

describe('a close hook that never settles does not hang a bounded close', () => {
  it("close({ signal }) resolves once its signal aborts, giving up the client's hung hook with a warning naming it", async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>();
    pool.add({}, { name: 'a', close: never });
    const controller = new AbortController();
    const closing = pool.close({ signal: controller.signal });
    expect(await stateOf(closing)).toBe('pending');
    controller.abort(new Error('shutdown deadline'));
    await expect(closing).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/^CLIENTPOOL_CALLBACK_ERROR clientpool: the close hook of client "a" failed .*CallbackError: the close hook of client "a" had not settled when the pool was destroyed: given up$/)]);
  });

  it('destroy() resolves without waiting for a hung client hook; a plain close() already waiting settles with it', async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>();
    pool.add({}, { name: 'a', close: never });
    const closing = pool.close();
    expect(await stateOf(closing)).toBe('pending');
    const destroyed = pool.destroy('give up');
    await expect(destroyed).resolves.toBeUndefined();
    await expect(closing).resolves.toBeUndefined();
    expect(warnings).toHaveLength(1);
  });

  it("a middleware's close and the limit's close that never settle are given up too, each named", async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>({ limit: { take: () => Promise.resolve(), close: never } });
    pool.add({});
    pool.use({ name: 'exporter', onOutcome() {}, close: never });
    const controller = new AbortController();
    const closing = pool.close({ signal: controller.signal });
    expect(await stateOf(closing)).toBe('pending');
    controller.abort();
    await expect(closing).resolves.toBeUndefined();
    expect(warnings.map((w) => /clientpool: (.*) failed/.exec(w)?.[1])).toEqual(['middleware "exporter" close', 'the limit close']);
  });

  it('a hook started after destroy() is called, and given up only if it has not settled by the next turn', async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>();
    let closedA = false;
    let release!: () => void;
    pool.add({}, { name: 'a', close: async () => void (closedA = true) });
    pool.add({}, { name: 'b', close: never });
    pool.add({}, { name: 'c', close: () => new Promise<void>((resolve) => (release = resolve)) });
    const destroyed = pool.destroy();
    await expect(destroyed).resolves.toBeUndefined();
    expect(closedA).toBe(true);
    expect(warnings.map((w) => /clientpool: (.*) failed/.exec(w)?.[1])).toEqual(['the close hook of client "b"', 'the close hook of client "c"']);
    release();
  });

  it('a hook that rejects still fails close() with an AggregateError: only a hung one is given up', async () => {
    recordWarnings();
    const pool = new ClientPool<object>();
    pool.add({}, { name: 'a', close: () => Promise.reject(new Error('close boom')) });
    pool.add({}, { name: 'b', close: never });
    const error = await pool.destroy().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toEqual([new Error('close boom')]);
  });

  it('without a bound, close() waits for a slow hook however long it takes', async () => {
    const pool = new ClientPool<object>();
    let release!: () => void;
    pool.add({}, { close: () => new Promise<void>((resolve) => (release = resolve)) });
    const closing = pool.close();
    expect(await stateOf(closing)).toBe('pending');
    release();
    await expect(closing).resolves.toBeUndefined();
  });
});
