// Faults found while attacking the lane that were not the lane's: each failed on 6d5be63 and on the commit
// before it (ee5fa35) alike, in the lane and in the full pick. Each test states the right behaviour.
import { describe, expect, it } from 'vitest';
import { ClientPool, type Balancer, type RunOptions } from '../../../src/index.js';
import { unhandledDuring } from '../../helpers/unhandled.js';
import { poolClosingInItsPick } from './closing-balancer.js';

interface Fake {
  readonly id: number;
}

const WAYS: readonly (readonly [string, RunOptions<Fake> | undefined])[] = [
  ['with no options (the lane)', undefined],
  ['with { cost: {} } (the full pick)', { cost: {} }],
];

describe('a function returning a native promise whose own then() returns without calling back', () => {
  // Its own `then` is honoured (as test/hardening/perf-s12/raced-own-then.test.ts pins for raced calls), through a
  // promise of ours: run() returns a promise, pending while that `then` has not called back, like any
  // function's promise that never settles; destroy() gives its client back (a plain call is released by count).
  for (const [name, options] of WAYS) {
    it(`run() still returns a promise, ${name}`, async () => {
      const pool = new ClientPool<Fake>();
      pool.add({ id: 0 }, { name: 'a' });
      const call: unknown = pool.run(() => Object.assign(Promise.resolve(1), { then: () => undefined }), options);
      expect(call).toBeInstanceOf(Promise);
      await pool.destroy();
    });

    it(`gives the client back at destroy(), ${name}`, async () => {
      const pool = new ClientPool<Fake>();
      pool.add({ id: 0 }, { name: 'a' });
      void pool.run(() => Object.assign(Promise.resolve(1), { then: () => undefined }), options);
      expect(pool.members()[0]!.inFlight).toBe(1);
      // destroy() resolves once every client has drained and been removed: this one was given back.
      await pool.destroy();
      expect(pool.members()).toEqual([]);
    });

    it(`takes the value its own then() calls back with later, ${name}`, async () => {
      const pool = new ClientPool<Fake>();
      pool.add({ id: 0 }, { name: 'a' });
      let callBack: ((value: number) => void) | undefined;
      const call = pool.run(() => Object.assign(Promise.resolve(1), { then: (onValue: (value: number) => void) => void (callBack = onValue) }), options);
      await Promise.resolve();
      callBack!(7);
      await expect(call).resolves.toBe(7);
      expect(pool.members()[0]!.inFlight).toBe(0);
      await pool.close();
    });
  }
});

describe("remove() or destroy() from a balancer's onUnready hook", () => {
  for (const [name, options] of WAYS) {
    it(`destroy() from onUnready, as a client reaches its cap, resolves without a TypeError, ${name}`, async () => {
      const box: { pool?: ClientPool<Fake>; armed: boolean; destroyed?: Promise<void> } = { armed: false };
      const balancer: Balancer<Fake> = {
        pick: (ready) => ready[0]!,
        onUnready: () => {
          if (!box.armed) return;
          box.armed = false;
          box.destroyed = box.pool!.destroy();
          box.destroyed.catch(() => undefined);
        },
      };
      const pool = (box.pool = new ClientPool<Fake>({ strategy: balancer }));
      pool.add({ id: 0 }, { name: 'a', maxInFlight: 1 });
      pool.add({ id: 1 }, { name: 'b', maxInFlight: 1 });
      box.armed = true;
      const unhandled = await unhandledDuring(async () => {
        await pool.run(() => Promise.resolve(1), options).catch(() => undefined);
      });
      expect(unhandled).toEqual([]);
      // Right: destroy() resolves. Now it rejects with "Cannot set properties of undefined (setting
      // 'readyIndex')" from Roster.#unplace: the removal moves the ready array the hook's own move is in
      // the middle of (its last member popped, not yet written back).
      await expect(box.destroyed).resolves.toBeUndefined();
    });
  }
});

describe("close() from a balancer's pick", () => {
  it('gives a call with no options the same error as the same call through select()', async () => {
    const endings: string[] = [];
    for (const options of WAYS.map(([, o]) => o)) {
      const { pool, closing } = poolClosingInItsPick<Fake>({ id: 0 });
      endings.push(await pool.run(() => 1, options).then(String, (error: { code?: string }) => String(error.code)));
      await closing();
    }
    // Right: one error for one situation (PoolClosedError would say what happened). Now the plain pick
    // (selectPlain, before the lane too) hands the balancer's error to select() as `first`, which finds
    // no tier and answers ERR_NO_CLIENTS; select() itself answers the balancer's ERR_CALLBACK.
    expect(endings[0]).toBe(endings[1]);
  });
});
