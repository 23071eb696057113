// One view of each upstream across processes: a circuit opened by process A is open in process B, and a
// 429's pause asked of A holds on B. Two pools with their own RedisFleet stand for two processes; a third
// pool without a fleet (C) shows what each process does alone. Run: npx tsx examples/fleet.ts
//
// It needs a Redis: REDIS_URL if set, else a throwaway redis-server on a free port if one is on PATH
// (stopped at the end), else it says how to get one and exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createConnection, createServer as createNetServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { ClientPool } from '../src/index.js';
import { RedisFleet } from '../src/redis/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait for `condition`, or fail the example after `ms` rather than hang. */
async function waitFor(what: string, condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function freePort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** True once a Redis answers PING on `port`. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.setTimeout(500, () => socket.destroy());
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** Start redis-server on `port`; the child once it answers, or undefined (not on PATH, or it would not start). */
async function startRedis(port: number): Promise<ChildProcess | undefined> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let isGone = false;
  child.once('error', () => (isGone = true)); // not on PATH
  child.once('exit', () => (isGone = true));
  for (let tries = 0; tries < 100 && !isGone; tries++) {
    if (await pings(port)) return child;
    await sleep(50);
  }
  if (!isGone) child.kill('SIGKILL');
  return undefined;
}

/** A Redis to use: REDIS_URL, or a redis-server started here (`child`, stopped at the end), or none. */
async function findRedis(): Promise<{ url: string; port?: number; child?: ChildProcess | undefined } | undefined> {
  const url = process.env['REDIS_URL'];
  if (url !== undefined) return { url };
  const port = await freePort();
  const child = await startRedis(port);
  return child === undefined ? undefined : { url: `redis://127.0.0.1:${port}`, port, child };
}

const redisAt = await findRedis();
if (redisAt === undefined) {
  console.log('This example needs Redis: install redis-server (apt-get install redis-server), or start one and set REDIS_URL:');
  console.log("  docker run --rm -p 6379:6379 redis:7 --save '' --appendonly no");
  console.log('  REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/fleet.ts');
  process.exit(0);
}
// Whatever happens below, the redis-server started here does not outlive the example.
process.once('exit', () => redisAt.child?.kill('SIGKILL'));

// Three local upstreams; a answers the next request with a 429 when told to.
type Name = 'a' | 'b' | 'c';
let rateLimitNext = false;
const servers = new Map<Name, Server>();
const upstreams = new Map<Name, string>();
for (const name of ['a', 'b', 'c'] as const) {
  const server = createHttpServer((_, res) => {
    if (name === 'a' && rateLimitNext) {
      rateLimitNext = false;
      res.writeHead(429, { 'retry-after': '1' }).end();
      return;
    }
    res.end(name);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.set(name, server);
  upstreams.set(name, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
}

interface Upstream {
  readonly name: Name;
  readonly url: string;
}

const connections: Redis[] = [];
/** One "process": a pool of the three upstreams, sharing through Redis unless `shared` is false. */
async function processPool(id: string, shared: boolean) {
  let fleet: RedisFleet | undefined;
  /** Requests this process sent to each upstream, reached or not. */
  const sent: Record<Name, number> = { a: 0, b: 0, c: 0 };
  if (shared) {
    // Each process owns its connection: failing fast while Redis is down, never queueing.
    const redis = new Redis(redisAt!.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
    redis.on('error', () => {});
    await redis.connect();
    connections.push(redis);
    fleet = new RedisFleet({ redis, key: `example:fleet:${process.pid}`, id, syncInterval: 50 });
  }
  const pool = new ClientPool<Upstream>({ breaker: { maxFailures: 3, cooldown: 10_000 }, ...(fleet === undefined ? {} : { fleet }) });
  for (const [name, url] of upstreams) pool.add({ name, url }, { name });
  const call = (): Promise<Name | 'failed'> =>
    pool
      .run(async (upstream, call) => {
        sent[upstream.name]++;
        const res = await fetch(upstream.url, { headers: { 'x-process': id } });
        if (res.status === 429) {
          // Retry-After in seconds: every process of the fleet leaves this upstream alone that long.
          call.pauseClient(Number(res.headers.get('retry-after')) * 1_000);
          throw new Error('429');
        }
        return (await res.text()) as Name;
      })
      .catch(() => 'failed' as const);
  const stateOf = (name: Name): string => pool.members().find((m) => m.name === name)?.state.kind ?? 'gone';
  return { id, fleet, pool, call, stateOf, sent };
}

const A = await processPool('A', true);
const B = await processPool('B', true);
const C = await processPool('C', false);
try {
  await waitFor('the first syncs', () => A.fleet!.stats.syncs > 0 && B.fleet!.stats.syncs > 0);

  // Upstream b dies. A finds out by failing; C, alone, has to find out the same way.
  const b = servers.get('b')!;
  b.close();
  b.closeAllConnections();
  while (A.stateOf('b') !== 'open') await A.call();
  console.log(`A: circuit of b open after ${A.sent.b} failed requests`);
  await waitFor("B's view of b", () => B.stateOf('b') === 'open');
  for (let i = 0; i < 30; i++) await B.call();
  for (let i = 0; i < 30; i++) await C.call();
  console.log(`B (shares A's view): 30 calls, ${B.sent.b} sent to dead b (A's opening reached B ${Math.round(B.fleet!.stats.lastLagMs)} ms after A reported it)`);
  console.log(`C (alone): 30 calls, ${C.sent.b} sent to dead b before its own breaker opened`);

  // Upstream a answers A with "429, retry after 1 s": B leaves a alone too.
  const applied = new Promise<void>((resolve) => B.fleet!.onApply(({ client, kind }) => client === 'a' && kind === 'pause' && resolve()));
  rateLimitNext = true;
  await waitFor('the 429', () => {
    void A.call();
    return !rateLimitNext;
  });
  await applied;
  const before = B.sent.a;
  const served: Record<string, number> = {};
  for (let i = 0; i < 10; i++) {
    const from = await B.call();
    served[from] = (served[from] ?? 0) + 1;
  }
  console.log(`B while a is paused: 10 calls served by ${JSON.stringify(served)}, ${B.sent.a - before} sent to a`);
  await sleep(1_100);
  const after: Record<string, number> = {};
  for (let i = 0; i < 4; i++) {
    const from = await B.call();
    after[from] = (after[from] ?? 0) + 1;
  }
  console.log(`B after Retry-After: ${JSON.stringify(after)}`);

  // Redis dies (only when this example started it): both fall back to their own view and keep serving.
  const { child, port } = redisAt;
  if (child !== undefined && port !== undefined) {
    const fellBack = Promise.all([A, B].map(({ fleet }) => new Promise((resolve) => fleet!.onFallback(resolve))));
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    await fellBack;
    let succeeded = 0;
    for (let i = 0; i < 10; i++) if ((await B.call()) !== 'failed') succeeded++;
    console.log(`Redis killed: A and B on their own view (${A.fleet!.state.mode}, ${B.fleet!.state.mode}); B: ${succeeded}/10 calls succeeded`);
    const recovered = Promise.all([A, B].map(({ fleet }) => new Promise<number>((resolve) => fleet!.onRecover(({ downMs }) => resolve(downMs)))));
    redisAt.child = await startRedis(port);
    const downMs = await recovered;
    console.log(`Redis back: A and B shared again (${A.fleet!.state.mode}, ${B.fleet!.state.mode}) after ${downMs.map((ms) => `${(ms / 1_000).toFixed(1)} s`).join(' and ')} on their own view`);
  }

  for (const { id, fleet } of [A, B]) {
    const { mode, syncs, failures, fallbacks, reports, applied: appliedCount } = fleet!.stats;
    console.log(`fleet stats of ${id}: mode ${mode}, ${syncs} syncs, ${failures} failures, ${fallbacks} fallbacks, ${reports} reports sent, ${appliedCount} applied`);
  }
} finally {
  await Promise.all([A.pool.close(), B.pool.close(), C.pool.close()]);
  for (const redis of connections) redis.disconnect();
  for (const server of servers.values()) {
    server.close();
    server.closeAllConnections();
  }
  const server = redisAt.child;
  if (server !== undefined && server.exitCode === null && server.signalCode === null) {
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    await exited;
  }
}
