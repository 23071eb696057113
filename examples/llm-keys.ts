// Two API keys of an LLM-style provider, limited in tokens per window, behind one pool: each call
// reserves what it may cost, the pool picks a key with room (most-headroom), and the real usage is
// settled from the answer. The provider here is a local HTTP server that meters each key itself and
// answers 429 when one goes over; the pool's own quotas keep that from happening.
// Run: npx tsx examples/llm-keys.ts
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientPool } from 'clientpool';

// A "minute" of 2 s, so that the example runs in seconds.
const WINDOW_MS = 2_000;
const QUOTAS: Record<string, number> = { 'key-small': 10_000, 'key-large': 40_000 };

// The provider: per key, a bucket of its tokens per window, refilled continuously; usage per answer.
const used = new Map<string, { tokens: number; at: number }>();
let over = 0;
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    const key = String(req.headers.authorization).replace('Bearer ', '');
    const { prompt, maxTokens } = JSON.parse(body) as { prompt: string; maxTokens: number };
    const quota = QUOTAS[key]!;
    const now = Date.now();
    const state = used.get(key) ?? { tokens: 0, at: now };
    state.tokens = Math.max(0, state.tokens - ((now - state.at) * quota) / WINDOW_MS);
    state.at = now;
    const inputTokens = prompt.length;
    const outputTokens = Math.min(maxTokens, 100 + (prompt.length % 300));
    if (state.tokens + inputTokens + outputTokens > quota) {
      over++;
      res.writeHead(429, { 'retry-after': '1' }).end();
      return;
    }
    state.tokens += inputTokens + outputTokens;
    used.set(key, state);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: 'ok', usage: { inputTokens, outputTokens } }));
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** One API key's client. */
class LlmKey {
  constructor(readonly apiKey: string) {}
  async chat(prompt: string, maxTokens: number): Promise<{ status: number; retryAfter: number; usage?: { inputTokens: number; outputTokens: number } }> {
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${this.apiKey}` }, body: JSON.stringify({ prompt, maxTokens }) });
    if (res.status !== 200) return { status: res.status, retryAfter: Number(res.headers.get('retry-after') ?? 1) };
    const { usage } = (await res.json()) as { usage: { inputTokens: number; outputTokens: number } };
    return { status: 200, retryAfter: 0, usage };
  }
}

const pool = new ClientPool<LlmKey>({ strategy: 'most-headroom', maxWait: 10_000 });
for (const [apiKey, tokens] of Object.entries(QUOTAS)) pool.add(new LlmKey(apiKey), { name: apiKey, limit: { tokens: { rate: tokens, per: WINDOW_MS } } });

const served: Record<string, number> = { 'key-small': 0, 'key-large': 0 };
let reserved = 0;
let settled = 0;
let failed = 0;
const started = Date.now();
// 100 chats of 200 to 600 prompt tokens, up to 400 output tokens each, all at once: about twice what
// the two keys allow in one window.
await Promise.all(
  Array.from({ length: 100 }, async (_, i) => {
    const prompt = 'x'.repeat(200 + ((i * 37) % 400));
    const cost = prompt.length + 400;
    reserved += cost;
    await pool.run(async (key, call) => {
      const answer = await key.chat(prompt, 400);
      if (answer.status === 429) {
        call.pauseClient(answer.retryAfter * 1_000);
        throw new Error('429');
      }
      const tokens = answer.usage!.inputTokens + answer.usage!.outputTokens;
      call.settle({ tokens });
      settled += tokens;
      served[key.apiKey]!++;
    }, { method: 'chat', cost: { tokens: cost } }).catch(() => failed++);
  }),
);

console.log(`100 chats in ${((Date.now() - started) / WINDOW_MS).toFixed(1)} windows: ${JSON.stringify(served)}`);
console.log(`reserved ${reserved} tokens, used ${settled}: ${reserved - settled} given back by call.settle()`);
console.log(`429s from the provider: ${over}; calls failed: ${failed}`);
console.log('tokens left per key:', Object.fromEntries(pool.members().map((m) => [m.name, Math.floor(m.quota!['tokens']!)])));
await pool.close();
server.close();
