// Run options whose getters answer at first and throw at a later read: wherever the pipeline reads them
// again, the call ends (a value, or an InvalidOptionError with the thrown error as its cause), its client
// is given back, nothing escapes as an unhandled rejection, and close() resolves.
import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, type RunOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

interface Fake {
  readonly id: string;
}

useUnhandledGuard({ time: 'real' });

/** Options whose `key` getter answers `value` `reads` times, then throws `thrown`. */
function flaky(key: string, value: unknown, reads: number, thrown: Error, rest: object = {}): RunOptions<Fake> {
  let n = 0;
  return Object.defineProperty({ ...rest }, key, {
    enumerable: true,
    get: () => {
      if (++n > reads) throw thrown;
      return value;
    },
  });
}

type Flow = 'succeeds' | 'fails' | 'retried' | 'waits for a client';
const FLOWS: readonly Flow[] = ['succeeds', 'fails', 'retried', 'waits for a client'];

async function runFlow(flow: Flow, options: RunOptions<Fake>): Promise<{ outcome: { value: unknown } | { error: unknown }; pool: ClientPool<Fake> }> {
  const pool = new ClientPool<Fake>();
  pool.add({ id: 'a' }, flow === 'waits for a client' ? { name: 'a', maxInFlight: 1 } : { name: 'a' });
  let release: (() => void) | undefined;
  const blocker = flow === 'waits for a client' ? pool.run(() => new Promise<void>((resolve) => (release = resolve))) : undefined;
  let calls = 0;
  const call = pool.run(
    () => {
      calls++;
      if (flow === 'fails' || (flow === 'retried' && calls === 1)) throw new Error('upstream');
      return 'ok';
    },
    options,
  );
  await Promise.resolve();
  release?.();
  await blocker;
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  return { outcome, pool };
}

describe('run options that throw at a later read', () => {
  const signal = new AbortController().signal;
  const cases: readonly (readonly [string, unknown])[] = [
    ['signal', signal],
    ['key', 'k'],
    ['minHeight', undefined],
    ['method', 'get'],
    ['traceId', 't'],
  ];
  for (const [key, value] of cases) {
    for (const flow of FLOWS) {
      for (let reads = 1; reads <= 8; reads++) {
        it(`${key} answering ${reads} time(s), then throwing; the call ${flow}: it ends, as a value or an InvalidOptionError`, async () => {
          const thrown = new Error(`read ${reads + 1}`);
          const rest = flow === 'retried' ? { retry: { attempts: 2, backoff: { initial: 0 } } } : {};
          const { outcome, pool } = await runFlow(flow, flaky(key, value, reads, thrown, rest));
          if ('error' in outcome) {
            const error = outcome.error as Error;
            if (error instanceof InvalidOptionError) expect(error.cause).toBe(thrown);
            else expect((error as { code?: string }).code).toMatch(/^ERR_/);
            expect(error).not.toBe(thrown);
          }
          expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
          await pool.close();
        });
      }
    }
  }
});
