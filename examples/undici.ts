// clientpool/undici: one undici Dispatcher over several origins, with the pool's breaker, retry and
// metrics; used with fetch(), request() and as the global dispatcher. Starts its own local servers.
// Run: node --import tsx examples/undici.ts
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fetch, getGlobalDispatcher, request, setGlobalDispatcher } from 'undici';
import { poolDispatcher } from '../src/undici/index.js';

/** A local origin answering `<name> <path>`; `failFirst` requests get a 503 first. */
async function origin(name: string, failFirst = 0): Promise<{ url: string; kill: () => void; server: Server }> {
  let served = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (served++ < failFirst) {
        res.statusCode = 503;
        res.end(`${name} is warming up`);
        return;
      }
      res.end(`${name} ${req.method ?? ''} ${req.url ?? ''}`);
    });
  });
  server.on('connection', (socket) => (sockets.add(socket), socket.on('close', () => sockets.delete(socket))));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const kill = (): void => {
    server.close();
    for (const socket of sockets) socket.destroy();
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, kill, server };
}

const a = await origin('a');
const b = await origin('b', 1);
const c = await origin('c');

const dispatcher = poolDispatcher({
  origins: [a.url, b.url, c.url],
  // Every ClientPool option applies: breaker, retry, hedge, timeout, limits, middleware.
  pool: { timeout: 2_000, breaker: { maxFailures: 3, cooldown: 30_000 }, retry: { attempts: 3, backoff: { initial: 0, max: 0 } } },
  // The name callers use; any other origin goes to a plain undici Agent.
  serviceOrigin: 'http://api.internal',
});

// fetch() and request(): the path and query go to the origin the pool picked; b's 503s move requests on.
for (let i = 1; i <= 3; i++) {
  const response = await fetch(`http://api.internal/items/${i}`, { dispatcher });
  console.log('fetch  ', response.status, await response.text());
}
const { statusCode, body } = await request('http://api.internal/users?page=2', { dispatcher });
console.log('request', statusCode, await body.text());

// A POST is sent once: never retried, never hedged, unless it opts in with `idempotent: true`.
const post = await request('http://api.internal/orders', { dispatcher, method: 'POST', body: '{"qty":1}' });
console.log('POST   ', post.statusCode, await post.body.text());

// Kill c mid-run: requests keep succeeding, on a and b.
c.kill();
let ok = 0;
for (let i = 0; i < 20; i++) {
  const response = await request(`http://api.internal/after-kill/${i}`, { dispatcher });
  await response.body.text();
  if (response.statusCode === 200) ok++;
}
console.log(`after killing c: ${ok}/20 requests succeeded`);

// As the global dispatcher: fetch() with no dispatcher goes through the pool too.
const previous = getGlobalDispatcher();
setGlobalDispatcher(dispatcher);
console.log('global ', await (await fetch('http://api.internal/global')).text());
setGlobalDispatcher(previous);

for (const member of dispatcher.pool.members()) {
  console.log(`${member.name}: ${member.state.kind}, ${member.successes} ok, ${member.failures} failed`);
}
await dispatcher.close();
a.kill();
b.kill();
if (ok !== 20) process.exitCode = 1;
