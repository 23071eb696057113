// Gates, the state of a promise read without awaiting it, and turns of the event loop.
export interface Gate {
  readonly promise: Promise<void>;
  readonly open: () => void;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export type Seen = 'pending' | { readonly ok: boolean; readonly value: unknown };

export function state(promise: Promise<unknown>): () => Seen {
  let seen: Seen = 'pending';
  promise.then(
    (value) => (seen = { ok: true, value }),
    (value: unknown) => (seen = { ok: false, value }),
  );
  return () => seen;
}

export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

export function errorOf(seen: Seen): unknown {
  if (seen === 'pending' || seen.ok) throw new Error(`expected a rejection, saw ${JSON.stringify(seen)}`);
  return seen.value;
}
