// The adapters that make sense off Node, against the BUILT package, under whichever runtime runs this file:
//   node scripts/runtimes/adapters.mjs
//   npx bun scripts/runtimes/adapters.mjs
//   npx deno run --no-lock --allow-net=127.0.0.1 --allow-env --allow-read --allow-sys scripts/runtimes/adapters.mjs
// clientpool/viem and clientpool/solana over local JSON-RPC servers (node:http: one healthy, one answering
// 503), clientpool/ai over the AI SDK's own mock models (one failing with a 503), clientpool/prometheus
// (prom-client) and clientpool/otel (the OpenTelemetry SDK) over in-process clients, and clientpool/undici
// over two local origins. Pass adapter names to run only those (Bun: not undici, see docs/runtimes.md). Each adapter prints one line,
// `<name>: ok ...` or `<name>: FAILED ...`; the last line is `clientpool adapters ok (<runtime>): <list>`
// and the exit code is 0 only when every adapter passed. Build first: `npm run build`.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { ClientPool } from 'clientpool';

const runtime = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : 'node';

/** A local JSON-RPC node: `answer(method)` gives a result, or undefined for HTTP 503 (a node that is down). */
async function jsonRpcNode(answer) {
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const parsed = JSON.parse(body);
      const one = (message) => ({ jsonrpc: '2.0', id: message.id, result: answer(message.method) });
      if ([parsed].flat().some((message) => answer(message.method) === undefined)) {
        response.writeHead(503).end('down');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Array.isArray(parsed) ? parsed.map(one) : one(parsed)));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** An HTTP origin answering `<name> <method> <path>`, or 503 when `isDown`. */
async function origin(name, isDown) {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => (isDown ? response.writeHead(503).end('down') : response.end(`${name} ${request.method} ${request.url}`)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

const NODE_POOL = { retry: { attempts: 3, backoff: { initial: 1, max: 5, jitter: 'none' } }, timeout: 2_000 };

const adapters = {
  async viem() {
    const [{ createPublicClient, http }, { mainnet }, { poolTransport, isNodeError }] = await Promise.all([import('viem'), import('viem/chains'), import('clientpool/viem')]);
    const down = await jsonRpcNode(() => undefined);
    const healthy = await jsonRpcNode((method) => ({ eth_blockNumber: '0x2a', eth_chainId: '0x1' })[method]);
    const pool = new ClientPool({ ...NODE_POOL, isFailure: isNodeError });
    try {
      pool.add(http(down.url, { retryCount: 0 }), { name: 'down' });
      pool.add(http(healthy.url, { retryCount: 0 }), { name: 'healthy' });
      const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool), cacheTime: 0 });
      const blocks = [];
      for (let i = 0; i < 4; i++) blocks.push(await client.getBlockNumber({ cacheTime: 0 }));
      if (blocks.some((block) => block !== 42n)) throw new Error(`getBlockNumber gave ${blocks.join(', ')}`);
      return `getBlockNumber 42 x${blocks.length}`;
    } finally {
      await pool.close();
      await Promise.all([down.close(), healthy.close()]);
    }
  },

  async solana() {
    const [{ createDefaultRpcTransport, createSolanaRpcFromTransport }, { poolRpcTransport, isSolanaNodeError }] = await Promise.all([import('@solana/kit'), import('clientpool/solana')]);
    const down = await jsonRpcNode(() => undefined);
    const healthy = await jsonRpcNode((method) => ({ getSlot: 42 })[method]);
    const pool = new ClientPool({ ...NODE_POOL, isFailure: isSolanaNodeError });
    try {
      pool.add(createDefaultRpcTransport({ url: down.url }), { name: 'down' });
      pool.add(createDefaultRpcTransport({ url: healthy.url }), { name: 'healthy' });
      const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool));
      const slots = [];
      for (let i = 0; i < 4; i++) slots.push(await rpc.getSlot().send());
      if (slots.some((slot) => slot !== 42n)) throw new Error(`getSlot gave ${slots.join(', ')}`);
      return `getSlot 42 x${slots.length}`;
    } finally {
      await pool.close();
      await Promise.all([down.close(), healthy.close()]);
    }
  },

  async ai() {
    const [{ generateText }, { MockLanguageModelV4 }, { APICallError }, { poolModel, isModelFailure }] = await Promise.all([import('ai'), import('ai/test'), import('@ai-sdk/provider'), import('clientpool/ai')]);
    const usage = { inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 5, text: 5, reasoning: undefined } };
    const failing = new MockLanguageModelV4({
      modelId: 'overloaded',
      doGenerate: () => Promise.reject(new APICallError({ message: 'HTTP 503', url: 'https://api.example/v1', requestBodyValues: {}, statusCode: 503 })),
    });
    const answering = new MockLanguageModelV4({
      modelId: 'answering',
      doGenerate: () => Promise.resolve({ content: [{ type: 'text', text: 'hello' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] }),
    });
    const pool = new ClientPool({ ...NODE_POOL, isFailure: isModelFailure });
    try {
      pool.add(failing, { name: 'overloaded' });
      pool.add(answering, { name: 'answering' });
      const texts = [];
      for (let i = 0; i < 3; i++) texts.push((await generateText({ model: poolModel(pool), prompt: 'hi', maxRetries: 0 })).text);
      if (texts.some((text) => text !== 'hello')) throw new Error(`generateText gave ${texts.join(', ')}`);
      return `generateText x${texts.length}`;
    } finally {
      await pool.close();
    }
  },

  async prometheus() {
    const [{ Registry }, { prometheusMetrics }] = await Promise.all([import('prom-client'), import('clientpool/prometheus')]);
    const registry = new Registry();
    const pool = new ClientPool({ retry: false, breaker: false });
    try {
      pool.use(prometheusMetrics({ registry }));
      pool.add({ get: () => Promise.resolve(1) }, { name: 'up' });
      pool.add({ get: () => Promise.reject(new Error('down')) }, { name: 'down' });
      for (let i = 0; i < 4; i++) await pool.run((client) => client.get(), { method: 'get' }).catch(() => undefined);
      const text = await registry.metrics();
      const counts = ['up', 'down'].map((client) => new RegExp(`^middleware_requests_total\\{[^}]*client="${client}"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1]);
      if (counts.join() !== '2,2') throw new Error(`middleware_requests_total by client: ${counts.join()}\n${text}`);
      return 'middleware_requests_total 2 + 2';
    } finally {
      await pool.close();
    }
  },

  async otel() {
    const [{ BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor }, { tracing }] = await Promise.all([import('@opentelemetry/sdk-trace-base'), import('clientpool/otel')]);
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const pool = new ClientPool({ retry: { attempts: 2, backoff: { initial: 1, max: 1, jitter: 'none' } }, breaker: false });
    try {
      pool.use(tracing({ tracerProvider: provider }));
      pool.add({ get: () => Promise.reject(new Error('down')) }, { name: 'down' });
      pool.add({ get: () => Promise.resolve(1) }, { name: 'up' });
      await pool.run((client) => client.get(), { method: 'get' });
      const spans = exporter.getFinishedSpans().length;
      if (spans < 2) throw new Error(`${spans} spans finished`);
      return `${spans} spans`;
    } finally {
      await pool.close();
      await provider.shutdown();
    }
  },

  async undici() {
    const [{ request }, { poolDispatcher }] = await Promise.all([import('undici'), import('clientpool/undici')]);
    const down = await origin('down', true);
    const up = await origin('up', false);
    const dispatcher = poolDispatcher({ origins: [down.url, up.url], pool: NODE_POOL });
    try {
      const bodies = [];
      for (let i = 0; i < 4; i++) {
        const response = await request(`${up.url}/x`, { dispatcher });
        bodies.push(await response.body.text());
      }
      if (bodies.some((body) => body !== 'up GET /x')) throw new Error(`request gave ${bodies.join(' | ')}`);
      return `request x${bodies.length}`;
    } finally {
      await dispatcher.close();
      await Promise.all([down.close(), up.close()]);
    }
  },
};

const only = (globalThis.process?.argv ?? []).slice(2);
const failed = [];
const passed = [];
const hang = setTimeout(() => {
  console.error(`clientpool adapters hung (${runtime}) after 60 s`);
  globalThis.process.exit(2);
}, 60_000);
for (const [name, check] of Object.entries(adapters)) {
  if (only.length > 0 && !only.includes(name)) continue;
  try {
    console.log(`${name}: ok, ${await check()}`);
    passed.push(name);
  } catch (error) {
    console.log(`${name}: FAILED, ${error?.stack ?? String(error)}`);
    failed.push(name);
  }
}
clearTimeout(hang);
if (failed.length > 0) {
  console.log(`clientpool adapters FAILED (${runtime}): ${failed.join(', ')}`);
  globalThis.process.exit(1);
}
console.log(`clientpool adapters ok (${runtime}): ${passed.join(', ')}`);
