// A RedisFleet of the CommonJS build given to a pool of the ESM build, and the reverse: the same behaviour.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as esmCore from '../../../src/index.js';
import * as esmRedis from '../../../src/redis/index.js';
import { describeWithRedis, useRedisServer, type TestRedis } from '../../redis/describe-with-redis.js';
import { failOnUnhandled, freshKey, sleep, switchable, until } from './fleet-harness.js';

failOnUnhandled();

type Build = typeof esmCore & typeof esmRedis;
const esm: Build = { ...esmCore, ...esmRedis };
let cjs: Build;
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clientpool-fleet-cjs-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `export * from ${JSON.stringify(resolve('src/index.ts'))};\nexport * from ${JSON.stringify(resolve('src/redis/index.ts'))};\n`);
  await build({ entryPoints: [entry], bundle: true, format: 'cjs', platform: 'node', target: 'node20', outfile: join(dir, 'index.cjs'), external: ['ioredis'], logLevel: 'silent' });
  writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  cjs = createRequire(import.meta.url)(join(dir, 'index.cjs')) as Build;
});
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

interface Up {
  readonly name: string;
  isDead: boolean;
}

function proc(fleetBuild: () => Build, poolBuild: () => Build, redis: esmRedis.RedisScriptClient, key: string) {
  const fleet = new (fleetBuild().RedisFleet)({ redis, key, syncInterval: 20, timeout: 100, recheckInterval: 30 });
  const pool = new (poolBuild().ClientPool)<Up>({ breaker: { maxFailures: 2, cooldown: 60_000 }, retryBudget: false, fleet });
  for (const name of ['x', 'y']) pool.add({ name, isDead: false }, { name });
  const stateOf = (name: string) => pool.members().find((m) => m.name === name)?.state.kind;
  const trip = async (name: string) => {
    while (stateOf(name) !== 'open') await pool.run((u) => {
      if (u.name === name) throw new Error('dead');
      return u.name;
    }).catch(() => undefined);
  };
  return { fleet, pool, stateOf, trip };
}

const cases: [string, () => Build, () => Build][] = [
  ['a CJS fleet in an ESM pool', () => cjs, () => esm],
  ['an ESM fleet in a CJS pool', () => esm, () => cjs],
];

describeWithRedis('RedisFleet across the CJS and ESM builds', () => {
  const redis = useRedisServer();

  it.each(cases)('%s shares openings both ways with a same-build process', { timeout: 30_000 }, async (_, fleetBuild, poolBuild) => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = proc(fleetBuild, poolBuild, a, key);
    const B = proc(() => esm, () => esm, b, key);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await A.trip('x');
      await until(() => B.stateOf('x') === 'open');
      await B.trip('y');
      await until(() => A.stateOf('y') === 'open');
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it.each(cases)('%s: a second pool is refused with an InvalidOptionError either build recognises', { timeout: 30_000 }, async (_, fleetBuild, poolBuild) => {
    const client: TestRedis = await redis.connect();
    const A = proc(fleetBuild, poolBuild, client, freshKey());
    try {
      let thrown: unknown;
      try {
        new (poolBuild().ClientPool)<Up>({ fleet: A.fleet });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(esm.InvalidOptionError);
      expect(thrown).toBeInstanceOf(cjs.InvalidOptionError);
      expect((thrown as { code: string }).code).toBe('ERR_INVALID_OPTION');
    } finally {
      await A.pool.close();
    }
  });

  it.each(cases)('%s: Redis hanging falls back with a TimeoutError of either build, calls go on, and it recovers', { timeout: 30_000 }, async (_, fleetBuild, poolBuild) => {
    const flaky = switchable(await redis.connect());
    const A = proc(fleetBuild, poolBuild, flaky, freshKey());
    const causes: Error[] = [];
    A.fleet.onFallback(({ cause }) => causes.push(cause));
    try {
      await until(() => A.fleet.stats.syncs > 0);
      flaky.mode = 'hang';
      await until(() => A.fleet.state.mode === 'fallback');
      for (let i = 0; i < 10; i++) expect(await A.pool.run((u) => u.name)).toMatch(/^[xy]$/);
      expect(causes[0]).toBeInstanceOf(esm.TimeoutError);
      expect(causes[0]).toBeInstanceOf(cjs.TimeoutError);
      flaky.mode = 'ok';
      await until(() => A.fleet.state.mode === 'redis');
      await sleep(10);
    } finally {
      await A.pool.close();
    }
  });
});
