import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeWithRedis, useRedisServer } from './describe-with-redis.js';
import { findRedisServer, freePort, redisSuiteMode } from './redis-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the redis-server test helper', () => {
  it.each([
    ['/usr/bin/redis-server', {}, 'run'],
    ['/usr/bin/redis-server', { CI: 'true' }, 'run'],
    [undefined, {}, 'skip'],
    [undefined, { CI: '' }, 'skip'],
    [undefined, { CI: 'false' }, 'skip'],
    [undefined, { CI: '1' }, 'fail'],
    [undefined, { CI: 'true' }, 'fail'],
  ] as const)('binary %s, env %j: %s', (binary, env, mode) => {
    expect(redisSuiteMode(binary, env)).toBe(mode);
  });

  it('REDIS_SERVER, when set, is the only candidate', () => {
    expect(findRedisServer({ REDIS_SERVER: '/nonexistent/redis-server', PATH: '/usr/bin' })).toBeUndefined();
  });

  it('freePort() gives a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    const server = createServer().listen(port, '127.0.0.1');
    await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
    server.close();
  });

  // The real thing: a Redis suite run where redis-server cannot be found, in CI and locally.
  const runSuite = (env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['node_modules/vitest/vitest.mjs', 'run', 'test/redis/script.test.ts'],
        { cwd: ROOT, env: { ...process.env, ...env, REDIS_SERVER: '/nonexistent/redis-server' } },
        (error, stdout, stderr) => resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: stdout + stderr }),
      );
    });

  it('without redis-server, a Redis suite fails in CI and is skipped, saying why, locally', async () => {
    const [ci, local] = await Promise.all([runSuite({ CI: '1' }), runSuite({ CI: '' })]);
    expect(ci.code).not.toBe(0);
    expect(ci.output).toContain('needs redis-server in CI');
    expect(local.code).toBe(0);
    for (const major of ['5', '6']) expect(local.output).toMatch(new RegExp(`skipping "token bucket script \\(real Redis, fake time\\) \\(ioredis ${major}\\)": redis-server not found`));
  });
});

describeWithRedis('a Redis suite one of whose tests left its server down', () => {
  const fixture = useRedisServer();

  it('kills the server and ends there, as a test that fails before its restart does', async () => {
    await fixture.server.kill();
    expect(fixture.server.isRunning).toBe(false);
  });

  it('gets it back for the next test: running, and a client connects', async () => {
    expect(fixture.server.isRunning).toBe(true);
    await expect(fixture.connect()).resolves.toBeDefined();
  });
});
