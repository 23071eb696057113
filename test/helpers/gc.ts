import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { turns } from './promise-state.js';

// `--expose-gc` set at run time: a fresh context then has `gc`, deterministic for objects nothing references.
setFlagsFromString('--expose-gc');

/** Run a full garbage collection now. */
export const gc = runInNewContext('gc') as () => void;

/** Whether what `ref` points to is collected within ten rounds of two event-loop turns and a collection. */
export async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    await turns(2);
    gc();
  }
  return ref.deref() === undefined;
}
