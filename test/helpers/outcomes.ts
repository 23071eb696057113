import type { Middleware, Outcome } from '../../src/index.js';

/** One attempt's verdict as the pool told its middleware. */
export interface SeenOutcome {
  readonly method: string;
  readonly client: string;
  readonly kind: Outcome['kind'];
}

/** Middleware that records the pool's verdict on each attempt, in order. */
export function recordOutcomes<C>(): { middleware: Middleware<C>; seen: SeenOutcome[] } {
  const seen: SeenOutcome[] = [];
  return { seen, middleware: { name: 'outcomes', onOutcome: (call, outcome) => seen.push({ method: call.method, client: call.clientName, kind: outcome.kind }) } };
}

/** How a call ended, comparable across pools and runs: `value <its value>`, or `error <its code>`. */
export async function ending(call: Promise<unknown>): Promise<string> {
  try {
    return `value ${String(await call)}`;
  } catch (error) {
    return `error ${(error as { code?: string }).code ?? String(error)}`;
  }
}
