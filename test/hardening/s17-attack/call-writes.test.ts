// A user's function is given its attempt as `call`, and may write its own properties on it (the pool's
// own test/pipeline/held-handlers.test.ts: "writing those names on it must change nothing of how it
// settles"). After 1227b55/4e15270/eab8d3b the held, lane and raced handlers read `this.host` (and a race's
// `succeed`/`fail`) off the attempt after the function ran, where the closures before kept the pool core.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type Call, type RunOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake', quietWarnings: true });

interface Fake {
  readonly id: string;
}

type Path = readonly [string, () => ClientPool<Fake>, RunOptions<Fake> | undefined];

const plainPool = (): ClientPool<Fake> => new ClientPool<Fake>();
const observedPool = (): ClientPool<Fake> => {
  const pool = new ClientPool<Fake>();
  pool.use({ name: 'observer', execute: (call, next) => next(call), onOutcome: () => {} });
  return pool;
};

const PATHS: readonly Path[] = [
  ['the lane (no options)', plainPool, undefined],
  ['the first lane ({ method })', plainPool, { method: 'get' }],
  ['a hold (onOutcome hook)', observedPool, undefined],
  ['a race ({ timeout })', plainPool, { timeout: 60_000 }],
  ['a race ({ signal })', plainPool, { signal: new AbortController().signal }],
  ['a race ({ hedge })', plainPool, { hedge: { delay: 5_000 } }],
];

/** Whether `pool.close()` (which waits for calls in flight) resolves within 1 s of fake time. */
const closes = async (pool: ClientPool<Fake>): Promise<boolean> => {
  let closed = false;
  void pool.close().then(
    () => (closed = true),
    () => (closed = true),
  );
  await vi.advanceTimersByTimeAsync(1_000);
  return closed;
};

const settle = async (call: Promise<unknown>): Promise<unknown> => {
  try {
    return { value: await call };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === undefined ? { thrown: String(error) } : { code, cause: (error as { cause?: unknown }).cause };
  }
};

/** Within 1 s of fake time (no timeout here is shorter than 60 s): a hang reads as 'pending'. */
const within = async (call: Promise<unknown>): Promise<unknown> => {
  let out: unknown = 'pending';
  void settle(call).then((v) => (out = v));
  await vi.advanceTimersByTimeAsync(1_000);
  return out;
};

describe('a user function that writes `host` on its call (its own label for the upstream host, say)', () => {
  for (const [path, makePool, options] of PATHS) {
    it(`${path}: a success resolves with its value, inFlight 0, successes 1, close() resolves`, async () => {
      const pool = makePool();
      pool.add({ id: 'a' }, { name: 'a' });
      const out = await within(
        pool.run((client, call) => {
          (call as unknown as { host?: unknown }).host = 'rpc.example.com';
          return Promise.resolve(client.id);
        }, options),
      );
      expect(out).toEqual({ value: 'a' });
      expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 1, failures: 0 });
      expect(await closes(pool)).toBe(true);
    });

    it(`${path}: a failure rejects with ERR_CLIENT_CALL carrying the cause, inFlight 0, failures 1, close() resolves`, async () => {
      const pool = makePool();
      pool.add({ id: 'a' }, { name: 'a' });
      const out = await within(
        pool.run((_client, call) => {
          (call as unknown as { host?: unknown }).host = 'rpc.example.com';
          return Promise.reject(new Error('upstream down'));
        }, options),
      );
      expect(out).toEqual({ code: 'ERR_CLIENT_CALL', cause: new Error('upstream down') });
      expect(pool.members()[0]).toMatchObject({ inFlight: 0, failures: 1 });
      expect(await closes(pool)).toBe(true);
    });
  }
});

describe("a user function that writes on its call's race (`call.race.succeed` / `fail`)", () => {
  const RACED: readonly Path[] = PATHS.filter(([name]) => name.startsWith('a race'));
  for (const [path, makePool, options] of RACED) {
    for (const name of ['succeed', 'fail'] as const) {
      it(`${path}: a race's own ${name} overwritten by the function changes nothing: the call answers as its function did, client freed`, async () => {
        const pool = makePool();
        pool.add({ id: 'a' }, { name: 'a' });
        const out = await within(
          pool.run((client, call) => {
            const race = (call as unknown as { race?: Record<string, unknown> }).race;
            if (race !== undefined) race[name] = (): void => undefined;
            return name === 'succeed' ? Promise.resolve(client.id) : Promise.reject(new Error('upstream down'));
          }, options),
        );
        expect(out).toEqual(name === 'succeed' ? { value: 'a' } : { code: 'ERR_CLIENT_CALL', cause: new Error('upstream down') });
        expect(pool.members()[0]!.inFlight).toBe(0);
        await pool.destroy();
      });
    }
  }
});

describe('writing the names the change bound (bind, invoke, heldSucceeded, laneSucceeded, heldFailed, succeed, fail, capture) on the call', () => {
  const NAMES = ['bind', 'invoke', 'heldSucceeded', 'laneSucceeded', 'heldFailed', 'succeed', 'fail', 'capture', 'then'];
  for (const [path, makePool, options] of PATHS) {
    it(`${path}: retried on the other client after a failure, the second answers; counters exact`, async () => {
      const pool = makePool();
      pool.add({ id: 'a' }, { name: 'a' });
      pool.add({ id: 'b' }, { name: 'b' });
      let n = 0;
      const out = await within(
        pool.run((client, call: Call<Fake>) => {
          for (const name of NAMES) Object.defineProperty(call, name, { value: () => new Promise(() => {}), configurable: true, writable: true });
          n++;
          return n === 1 ? Promise.reject(new Error('down')) : Promise.resolve(client.id);
        }, { ...options, retry: { attempts: 2 } }),
      );
      expect(n).toBe(2);
      expect(typeof (out as { value?: string }).value).toBe('string');
      const members = pool.members();
      expect(members.map((m) => m.inFlight)).toEqual([0, 0]);
      expect(members.reduce((s, m) => s + m.successes, 0)).toBe(1);
      expect(members.reduce((s, m) => s + m.failures, 0)).toBe(1);
      await pool.destroy();
    });
  }
});

describe('a user function that freezes, seals or trims its call', () => {
  for (const [path, makePool, options] of PATHS) {
    for (const how of ['Object.freeze', 'Object.seal', 'Object.preventExtensions'] as const) {
      it(`${path}: ${how}(call), then a success and a failure: each answered as the function did, the client freed`, async () => {
        const pool = makePool();
        pool.add({ id: 'a' }, { name: 'a' });
        const seal = (call: Call<Fake>): void => {
          if (how === 'Object.freeze') Object.freeze(call);
          else if (how === 'Object.seal') Object.seal(call);
          else Object.preventExtensions(call);
        };
        const ok = await within(pool.run((client, call) => (seal(call), Promise.resolve(client.id)), options));
        const bad = await within(pool.run((_client, call) => (seal(call), Promise.reject(new Error('upstream down'))), options));
        expect([ok, bad]).toEqual([{ value: 'a' }, { code: 'ERR_CLIENT_CALL', cause: new Error('upstream down') }]);
        expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 1, failures: 1 });
        expect(await closes(pool)).toBe(true);
      });
    }

    it(`${path}: \`delete call.host\` (a cleanup of the function's own annotation) then a success: answered, the client freed`, async () => {
      const pool = makePool();
      pool.add({ id: 'a' }, { name: 'a' });
      const out = await within(
        pool.run((client, call) => {
          delete (call as unknown as { host?: unknown }).host;
          return Promise.resolve(client.id);
        }, options),
      );
      expect(out).toEqual({ value: 'a' });
      expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 1 });
      expect(await closes(pool)).toBe(true);
    });
  }
});
