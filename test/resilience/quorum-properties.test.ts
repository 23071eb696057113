import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, QuorumError, type Call } from '../../src/index.js';
import { dateClock, useFakeTime } from '../helpers/fake-time.js';

useFakeTime();

/** One client of a generated pool: what it answers (or that it fails) and after how many ms. */
interface Behaviour {
  readonly answer: number | { readonly block: number } | 'fail';
  readonly ms: number;
}

const behaviour: fc.Arbitrary<Behaviour> = fc.record({
  answer: fc.oneof(fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1).map((block) => ({ block })), fc.constant('fail' as const)),
  ms: fc.integer({ min: 0, max: 50 }),
});

const scenario = fc
  .array(behaviour, { minLength: 1, maxLength: 7 })
  .chain((clients) => fc.integer({ min: 1, max: clients.length }).chain((of) => fc.record({ clients: fc.constant(clients), of: fc.constant(of), agree: fc.integer({ min: 1, max: of }) })));

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

describe('quorum reads, on random answers, latencies and failures', () => {
  it('never resolve with fewer than agree matching answers, reject only when no value can reach agree, and use distinct clients', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ clients, of, agree }) => {
        vi.setSystemTime(0);
        const pool = new ClientPool<number>({ clock: dateClock, breaker: false });
        clients.forEach((_, i) => pool.add(i, { name: `c${i}` }));
        const called: number[] = [];
        /** Answers delivered before the quorum settled, in order. */
        const delivered: unknown[] = [];
        let isSettled = false;
        const fn = (client: number, call: Call<number>): Promise<unknown> => {
          called.push(client);
          const { answer, ms } = clients[client]!;
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
              if (answer === 'fail') return reject(new Error('down'));
              if (!isSettled) delivered.push(answer);
              resolve(answer);
            }, ms);
            call.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
          });
        };
        const outcome = pool.quorum(fn, { of, agree }).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ).finally(() => {
          isSettled = true;
        });
        await vi.advanceTimersByTimeAsync(100);
        const result = await outcome;

        expect(called).toHaveLength(of);
        expect(new Set(called).size).toBe(of);
        if ('value' in result) {
          expect(delivered.filter((answer) => same(answer, result.value)).length).toBeGreaterThanOrEqual(agree);
        } else {
          expect(result.error).toBeInstanceOf(QuorumError);
          const error = result.error as QuorumError;
          expect(error.reason).toBe('no-agreement');
          const pending = of - error.answers.length - error.errors.length;
          for (const { value } of error.answers) {
            expect(error.answers.filter((a) => same(a.value, value)).length + pending).toBeLessThan(agree);
          }
          if (error.answers.length === 0) expect(pending).toBeLessThan(agree);
        }
        await vi.advanceTimersByTimeAsync(0);
        expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
        await pool.close();
      }),
      { numRuns: 300 },
    );
  });
});
