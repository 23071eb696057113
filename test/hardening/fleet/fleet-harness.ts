// Shared setup of the fleet attack: pools in one process stand for processes, each on its own connection
// to one real redis-server, and Redis clients that misbehave on demand.
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { ClientPool, type PoolOptions, type StateChange } from '../../../src/index.js';
import { RedisFleet, type RedisFleetOptions, type RedisScriptClient } from '../../../src/redis/index.js';
import type { TestRedis } from '../../redis/describe-with-redis.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let keys = 0;
export const freshKey = (): string => `fleet-attack:${process.pid}:${++keys}`;

/** Poll until `condition` holds, or fail after `ms` (a fleet that never gets there must not hang the suite). */
export async function until(condition: () => boolean, ms = 8_000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Unhandled rejections fail the test they happen in. */
export function failOnUnhandled(): void {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  beforeAll(() => void process.on('unhandledRejection', onUnhandled));
  afterAll(() => void process.off('unhandledRejection', onUnhandled));
  afterEach(() => expect(unhandled.splice(0)).toEqual([]));
}

export interface Upstream {
  readonly name: string;
  calls: number;
  isDead: boolean;
}

export const upstream = (name: string, isDead = false): Upstream => ({ name, calls: 0, isDead });

/** One "process": a fleet and a pool over `upstreams`, with a breaker that opens after 2 failures. */
export function processPool(redis: RedisScriptClient, key: string, upstreams: readonly Upstream[], options: Partial<RedisFleetOptions> = {}, pool: Partial<PoolOptions<Upstream>> = {}) {
  const fleet = new RedisFleet({ redis, key, syncInterval: 20, timeout: 2_000, ...options });
  const p = new ClientPool<Upstream>({ breaker: { maxFailures: 2, cooldown: 60_000 }, retryBudget: false, ...pool, fleet });
  for (const u of upstreams) p.add(u, { name: u.name });
  const changes: StateChange[] = [];
  p.onStateChange((change) => changes.push(change));
  const call = (): Promise<string> =>
    p.run((u) => {
      u.calls++;
      if (u.isDead) throw new Error(`${u.name} is dead`);
      return u.name;
    });
  return { fleet, pool: p, changes, call };
}

export const stateOf = (pool: ClientPool<Upstream>, name: string): string | undefined => pool.members().find((m) => m.name === name)?.state.kind;

/** Trip `name` in `pool` by calling it until its circuit opens (every other client must be healthy or absent). */
export async function trip(pool: ClientPool<Upstream>, name: string): Promise<void> {
  for (let i = 0; stateOf(pool, name) !== 'open'; i++) {
    if (i > 200) throw new Error(`${name} never opened`);
    await pool.run((u) => {
      u.calls++;
      if (u.isDead || u.name === name) throw new Error(`${u.name} is dead`);
      return u.name;
    }).catch(() => undefined);
  }
}

export type Misbehaviour = 'ok' | 'down' | 'hang' | 'garbage' | 'throw';

/** A Redis client passing commands to a real one while `mode` is 'ok', and failing as told otherwise. */
export function switchable(redis: TestRedis): RedisScriptClient & { mode: Misbehaviour; hung: number; delayMs: number } {
  const client = {
    mode: 'ok' as Misbehaviour,
    hung: 0,
    /** In 'ok' mode, each command waits this long before it is sent. */
    delayMs: 0,
    evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown> {
      return client.run(() => redis.evalsha(sha, numKeys, ...args));
    },
    eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown> {
      return client.run(() => redis.eval(script, numKeys, ...args));
    },
    run(send: () => Promise<unknown>): Promise<unknown> {
      switch (client.mode) {
        case 'ok':
          return client.delayMs > 0 ? sleep(client.delayMs).then(send) : send();
        case 'down':
          return Promise.reject(new Error('Connection is closed.'));
        case 'hang':
          client.hung++;
          return new Promise(() => {});
        case 'garbage':
          return Promise.resolve({ not: 'a reply' });
        case 'throw':
          throw new Error('thrown synchronously');
      }
    },
  };
  return client;
}

/** Active timers (Timeout resources) now. */
export const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
