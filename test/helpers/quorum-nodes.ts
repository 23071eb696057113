// Stand-in upstreams for the quorum tests, on fake time (see fake-time.ts): each answers (or fails) after
// its own delay unless its call's signal aborts first.
import { ClientPool, type AddOptions, type Call, type PoolOptions } from '../../src/index.js';
import { dateClock } from './fake-time.js';

/** A client that answers `answer` after `ms` of virtual time, or fails with it when it is an Error. */
export interface Node {
  readonly name: string;
  ms: number;
  answer: unknown;
}

export const node = (name: string, ms: number, answer: unknown): Node => ({ name, ms, answer });

/** Call `client` for `call`: its answer after its delay; the timer cleared when the call's signal aborts. */
export function answer(client: Node, call: Call<Node>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (client.answer instanceof Error ? reject(client.answer) : resolve(client.answer)), client.ms);
    call.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });
}

/**
 * A pool on the fake clock over `nodes`, each named by its name; `add` gives some of them `pool.add()`
 * options of their own (`{ c: { maxInFlight: 1 } }`).
 */
export function poolOf(nodes: readonly Node[], options: PoolOptions<Node> = {}, add: Readonly<Record<string, AddOptions<Node>>> = {}): ClientPool<Node> {
  const pool = new ClientPool<Node>({ clock: dateClock, ...options });
  for (const n of nodes) pool.add(n, { ...add[n.name], name: n.name });
  return pool;
}

/** A per-call strategy that sends the call to the client named `name` (the setup's way to reach one client). */
export const only = (name: string): { pick(ready: readonly { readonly name: string }[]): never } => ({
  pick: (ready) => ready.find((m) => m.name === name) as never,
});

/** The settled result of `promise` and the virtual time it settled at. */
export function timed<V>(promise: Promise<V>): Promise<{ value?: V; error?: unknown; at: number }> {
  return promise.then(
    (value) => ({ value, at: Date.now() }),
    (error: unknown) => ({ error, at: Date.now() }),
  );
}
