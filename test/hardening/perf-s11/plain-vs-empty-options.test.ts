import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type Balancer, type Call, type Next, type PoolMember, type PoolOptions, type AddOptions, seededRandom } from '../../../src/index.js';
import { dateClock, useFakeTime } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';

useFakeTime();

type Client = { name: string };

/** Round robin over what it is given that counts how often it is asked. */
function countingBalancer(): Balancer<Client> & { picks: number } {
  let next = 0;
  const balancer = {
    picks: 0,
    pick(ready: readonly PoolMember<Client>[]): PoolMember<Client> {
      balancer.picks++;
      return ready[next++ % ready.length]!;
    },
  };
  return balancer;
}

interface Scenario {
  readonly strategy: 'counting' | 'least-in-flight' | 'p2c-ewma' | 'weighted-random' | 'random';
  readonly pool: Omit<PoolOptions<Client>, 'strategy' | 'clock'>;
  readonly clients: readonly AddOptions<Client>[];
  readonly steps: readonly { kind: 'ok' | 'fail' | 'hold' | 'settle' | 'advance'; n: number }[];
}

function scenario(seed: number, isWide = false): Scenario {
  const random = seededRandom(seed);
  const pick = <V>(values: readonly V[]): V => values[Math.floor(random() * values.length)]!;
  const count = 2 + Math.floor(random() * 3);
  const clients: AddOptions<Client>[] = [];
  for (let i = 0; i < count; i++) {
    clients.push({
      name: `c${i}`,
      ...(random() < 0.4 ? { limit: { rate: pick([2, 5, 20]), burst: pick([1, 2, 4]) } } : {}),
      ...(random() < 0.4 ? { maxInFlight: pick([1, 2]) } : {}),
      ...(random() < 0.3 ? { tier: 1 } : {}),
    });
  }
  const pool: Scenario['pool'] = {
    retryBudget: false,
    breaker: { maxFailures: pick([1, 2]), cooldown: pick([300, 800]), halfOpenProbes: 1 },
    ...(random() < 0.4 ? { maxEjectedPercent: pick([34, 50]) } : {}),
    ...(random() < 0.4 ? { slowStart: { window: pick([500, 2_000]) } } : {}),
    maxWait: pick([100, 1_000]),
    ...(isWide && random() < 0.5 ? { limit: { rate: pick([5, 20]), burst: pick([2, 5]) } } : {}),
    ...(isWide && random() < 0.3 ? { measureLatency: true } : {}),
    ...(isWide && random() < 0.3 ? { middleware: [{ name: 'seen', onOutcome: () => {} }] } : {}),
    ...(isWide && random() < 0.3 ? { middleware: [(call: Call<Client>, next: Next) => next(call)] } : {}),
  };
  const strategy: Scenario['strategy'] = isWide ? pick(['counting', 'least-in-flight', 'p2c-ewma', 'weighted-random', 'random'] as const) : 'counting';
  const steps: Scenario['steps'][number][] = [];
  for (let i = 0; i < 60; i++) steps.push({ kind: pick(['ok', 'ok', 'fail', 'hold', 'settle', 'advance'] as const), n: Math.floor(random() * 1_000) });
  return { strategy, pool, clients, steps };
}

/** Plays `s` on a fresh pool, each call made with `call`, and logs everything a caller can see. */
async function play(seed: number, s: Scenario, call: (pool: ClientPool<Client>, fn: (client: Client) => Promise<string>) => Promise<string>): Promise<string[]> {
  vi.setSystemTime(0);
  const balancer = countingBalancer();
  const pool = new ClientPool<Client>({ ...s.pool, strategy: s.strategy === 'counting' ? balancer : s.strategy, clock: dateClock, random: seededRandom(seed) });
  const log: string[] = [];
  pool.onStateChange((change) => log.push(`state ${change.client} ${change.from.kind}->${change.to.kind}`));
  for (const options of s.clients) pool.add({ name: options.name! }, options);
  const held: { resolve: (value: string) => void; reject: (error: unknown) => void }[] = [];
  let id = 0;
  for (const step of s.steps) {
    if (step.kind === 'advance') await vi.advanceTimersByTimeAsync(50 + (step.n % 700));
    else if (step.kind === 'settle') {
      const h = held.splice(step.n % Math.max(held.length, 1), 1)[0];
      if (h !== undefined) {
        if (step.n % 3 === 0) h.reject(new Error('down'));
        else h.resolve('late');
      }
    } else {
      const me = id++;
      const kind = step.kind;
      const promise = call(pool, (client) => {
        log.push(`call ${me} on ${client.name}`);
        if (kind === 'ok') return Promise.resolve(client.name);
        if (kind === 'fail') return Promise.reject(new Error('down'));
        const d = deferred<string>();
        held.push(d);
        return d.promise;
      });
      promise.then(
        (value) => log.push(`call ${me} resolved ${value}`),
        (error: unknown) => log.push(`call ${me} rejected ${(error as { code?: string }).code ?? String(error)}`),
      );
    }
    await vi.advanceTimersByTimeAsync(0);
    log.push(`picks ${balancer.picks} | ${pool.members().map((m) => `${m.name}:${m.inFlight}:${m.state.kind}:${m.successes}/${m.failures}/${m.refused}`).join(' ')}`);
  }
  for (const h of held) h.resolve('end');
  await vi.advanceTimersByTimeAsync(5_000);
  log.push(`end picks ${balancer.picks} | ${pool.members().map((m) => `${m.name}:${m.inFlight}`).join(' ')}`);
  await pool.destroy();
  return log;
}

describe('a call with no options against the same call with empty options', () => {
  it('serves, picks, counts and settles alike over seeded scenarios (limits, caps, tiers, slow start, panic, half-open)', async () => {
    for (let seed = 1; seed <= 80; seed++) {
      const s = scenario(seed);
      const plain = await play(seed, s, (pool, fn) => pool.run(fn));
      const empty = await play(seed, s, (pool, fn) => pool.run(fn, {}));
      expect({ seed, log: plain }).toEqual({ seed, log: empty });
    }
  }, 60_000);

  it('alike with built-in strategies, a pool limit, timed calls and middleware', async () => {
    for (let seed = 1; seed <= 80; seed++) {
      const s = scenario(seed, true);
      const plain = await play(seed, s, (pool, fn) => pool.run(fn));
      const empty = await play(seed, s, (pool, fn) => pool.run(fn, {}));
      expect({ seed, log: plain }).toEqual({ seed, log: empty });
    }
  }, 60_000);
});
