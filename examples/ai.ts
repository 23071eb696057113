// clientpool/ai: one AI SDK model over a pool of models. Local HTTP servers stand in for providers: one
// overloaded (503), one rate-limited (429, Retry-After: 30), one healthy, one that cuts its stream.
// Run: node --import tsx examples/ai.ts
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APICallError, type LanguageModelV4, type LanguageModelV4CallOptions, type LanguageModelV4GenerateResult, type LanguageModelV4StreamPart, type LanguageModelV4StreamResult } from '@ai-sdk/provider';
import { generateText, streamText } from 'ai';
import { ClientPool } from '../src/index.js';
import { isModelFailure, poolModel } from '../src/ai/index.js';

type Behaviour = 'overloaded' | 'limited-once' | 'healthy' | 'cuts-stream';

/** A fake provider: POST /generate answers JSON, POST /stream one line of JSON per chunk. */
async function provider(name: string, behaviour: Behaviour): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (behaviour === 'overloaded') return void res.writeHead(503).end('{"error":"overloaded"}');
      if (behaviour === 'limited-once' && hits === 1) return void res.writeHead(429, { 'retry-after': '30' }).end('{"error":"rate limited"}');
      if (body.includes('forbidden')) return void res.writeHead(400).end('{"error":"content policy"}');
      const words = ['Hello', ' from', ` ${name}`];
      if (req.url === '/generate') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: words.join(''), input: 12, output: 3 }));
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      // The cut comes a little after the first chunk, so that the client has read it (Bun reads in batches).
      if (behaviour === 'cuts-stream') return void res.write(`${JSON.stringify({ delta: words[0] })}\n`, () => setTimeout(() => res.destroy(), 50));
      for (const delta of words) res.write(`${JSON.stringify({ delta })}\n`);
      res.end(`${JSON.stringify({ input: 12, output: 3 })}\n`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits, server };
}

/** A minimal AI SDK model for the fake provider: what a real provider package does, in 40 lines. */
class FakeProviderModel implements LanguageModelV4 {
  readonly specificationVersion = 'v4';
  readonly provider = 'fake';
  readonly supportedUrls = {};
  readonly modelId: string;
  readonly #url: string;
  constructor(modelId: string, url: string) {
    this.modelId = modelId;
    this.#url = url;
  }
  async #post(path: string, options: LanguageModelV4CallOptions): Promise<Response> {
    const body = JSON.stringify(options.prompt);
    const response = await fetch(`${this.#url}${path}`, { method: 'POST', body, ...(options.abortSignal === undefined ? {} : { signal: options.abortSignal }) });
    if (!response.ok) throw new APICallError({ message: await response.text(), url: response.url, requestBodyValues: body, statusCode: response.status, responseHeaders: Object.fromEntries(response.headers) });
    return response;
  }
  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const { text, input, output } = (await (await this.#post('/generate', options)).json()) as { text: string; input: number; output: number };
    return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(input, output), warnings: [] };
  }
  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const lines = (await this.#post('/stream', options)).body!.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines());
    const parts = lines.pipeThrough(
      new TransformStream<string, LanguageModelV4StreamPart>({
        start: (c) => (c.enqueue({ type: 'stream-start', warnings: [] }), c.enqueue({ type: 'text-start', id: 't' })),
        transform: (line, c) => {
          const chunk = JSON.parse(line) as { delta?: string; input?: number; output?: number };
          if (chunk.delta !== undefined) return c.enqueue({ type: 'text-delta', id: 't', delta: chunk.delta });
          c.enqueue({ type: 'text-end', id: 't' });
          c.enqueue({ type: 'finish', usage: usage(chunk.input ?? 0, chunk.output ?? 0), finishReason: { unified: 'stop', raw: 'stop' } });
        },
      }),
    );
    return { stream: parts };
  }
}

function usage(input: number, output: number): LanguageModelV4GenerateResult['usage'] {
  return { inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: output, text: output, reasoning: undefined } };
}

function splitLines(): TransformStream<string, string> {
  let rest = '';
  return new TransformStream({
    transform(text, controller) {
      const lines = (rest + text).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line !== '') controller.enqueue(line);
    },
  });
}

const servers = {
  overloaded: await provider('overloaded', 'overloaded'),
  limited: await provider('limited', 'limited-once'),
  healthy: await provider('healthy', 'healthy'),
  cutting: await provider('cutting', 'cuts-stream'),
};

// isModelFailure: 5xx, 429, timeouts and network errors count against a model and are retried on another;
// a 400 is the provider's answer, neither counted nor retried.
const pool = new ClientPool<LanguageModelV4>({ isFailure: isModelFailure, retry: { attempts: 3, backoff: { initial: 0, max: 0 } }, breaker: { maxFailures: 2, cooldown: 60_000 } });
for (const name of ['overloaded', 'limited', 'healthy'] as const) pool.add(new FakeProviderModel(name, servers[name].url), { name });
const tokens = { input: 0, output: 0 };
const model = poolModel(pool, {
  modelId: 'chat',
  onUsage: ({ clientName, usage: u }) => {
    tokens.input += u.inputTokens.total ?? 0;
    tokens.output += u.outputTokens.total ?? 0;
    console.log(`  usage on ${clientName}: ${u.inputTokens.total} in, ${u.outputTokens.total} out`);
  },
});

console.log('generateText, three calls:');
for (let i = 0; i < 3; i++) {
  const { text, finalStep } = await generateText({ model, prompt: 'Say hello' });
  console.log(`  "${text}" (served by ${finalStep.response.modelId})`);
}
// overloaded: its circuit opened after 2 failures; limited: paused 30 s by its Retry-After after 1 call.
for (const m of pool.members()) console.log(`  ${m.name}: ${servers[m.name as keyof typeof servers].hits()} request(s), ${m.failures} failure(s), circuit ${m.state.kind}`);
console.log(`  tokens: ${tokens.input} in, ${tokens.output} out`);

const before = servers.overloaded.hits() + servers.limited.hits();
try {
  await generateText({ model, prompt: 'something forbidden' });
} catch (error) {
  if (APICallError.isInstance(error)) console.log(`a 400 reaches the caller as the provider's APICallError (${error.statusCode}); other servers called: ${servers.overloaded.hits() + servers.limited.hits() - before}`);
}

const streamed = streamText({ model, prompt: 'Say hello' });
console.log(`streamText: "${await streamed.text}"`);

// A stream that breaks after its first chunk does not fail over: the caller gets the part and the error.
const cutPool = new ClientPool<LanguageModelV4>({ isFailure: isModelFailure, retry: { attempts: 2 } });
cutPool.add(new FakeProviderModel('cutting', servers.cutting.url), { name: 'cutting' });
cutPool.add(new FakeProviderModel('healthy', servers.healthy.url), { name: 'healthy' });
const healthyHits = servers.healthy.hits();
const cut = streamText({ model: poolModel(cutPool), prompt: 'Say hello', onError: () => {} });
let partial = '';
let streamError = '';
for await (const part of cut.stream) {
  if (part.type === 'text-delta') partial += part.text;
  if (part.type === 'error') streamError = (part.error as Error).message;
}
console.log(`cut stream: partial "${partial}", then error "${streamError}"; healthy called ${servers.healthy.hits() - healthyHits} time(s)`);

await pool.close();
await cutPool.close();
for (const { server } of Object.values(servers)) server.close();
