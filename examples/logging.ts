// A logging middleware as a user writes it, in both forms clientpool takes: the object form (the
// original's LoggingMiddleware, with a name) and the plain function form (the original's WrapMiddleware).
// Run: npx tsx examples/logging.ts
import { ClientPool, type Call, type Middleware, type MiddlewareFunction, type Next } from '../src/index.js';

/** An in-process stand-in for an RPC client: answers at once, and fails while `isDown`. */
class FakeRpc {
  readonly url: string;
  isDown = false;
  constructor(url: string) {
    this.url = url;
  }
  getSlot(): Promise<number> {
    return this.isDown ? Promise.reject(new Error(`${this.url} unavailable`)) : Promise.resolve(250_000_000);
  }
}

const elapsed = (since: number): string => `${(performance.now() - since).toFixed(2)} ms`;
const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Object form: a name (it shows in errors and debugging) and, if needed, `attach` and `close`. */
function loggingMiddleware(log: (line: string) => void = console.log): Middleware {
  return {
    name: 'logging',
    async execute(call: Call<unknown>, next: Next): Promise<unknown> {
      const started = performance.now();
      try {
        const result = await next(call);
        log(`[object]   ${call.method} on ${call.clientName}: ok in ${elapsed(started)}`);
        return result;
      } catch (error) {
        // Log and rethrow: the pool still counts the failure and the caller still gets the error.
        log(`[object]   ${call.method} on ${call.clientName}: failed in ${elapsed(started)}: ${reason(error)}`);
        throw error;
      }
    },
  };
}

/** Function form: the same in one plain function. */
const logCalls: MiddlewareFunction = async (call, next) => {
  const started = performance.now();
  try {
    return await next(call);
  } finally {
    console.log(`[function] ${call.method} on ${call.clientName} (attempt ${call.attempt}) took ${elapsed(started)}`);
  }
};

const [a, b] = [new FakeRpc('https://a.example'), new FakeRpc('https://b.example')];
b.isDown = true;

// Both forms on one pool: the first registered is the outermost, so [function] lines come after [object] ones.
await using pool = new ClientPool<FakeRpc>({ strategy: 'round-robin', breaker: false });
pool.use(logCalls).use(loggingMiddleware());
pool.add(a, { name: 'a' });
pool.add(b, { name: 'b' });

for (let i = 0; i < 3; i++) {
  const outcome = await pool.run((client) => client.getSlot(), { method: 'get_slot' }).then(
    (slot) => `slot ${slot}`,
    (error: unknown) => `error: ${reason(error)}`,
  );
  console.log(`  -> ${outcome}`);
}
