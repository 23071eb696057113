import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AllCircuitsOpenError, ClientPool, ConsecutiveBreaker, type Admission, type Breaker } from '../src/index.js';
import { ManualClock } from './helpers/manual-clock.js';

type Command =
  | { readonly kind: 'acquire' }
  | { readonly kind: 'settle'; readonly index: number; readonly outcome: 'success' | 'failure' | 'release' }
  | { readonly kind: 'advance'; readonly ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.constant<Command>({ kind: 'acquire' }), weight: 3 },
  {
    arbitrary: fc.record({ kind: fc.constant('settle' as const), index: fc.nat(20), outcome: fc.constantFrom('success' as const, 'failure' as const, 'failure' as const, 'release' as const) }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 2_000 }) }), weight: 1 },
);

describe('ConsecutiveBreaker state machine (property)', () => {
  it('matches a reference model: opens after N consecutive failures, closes after halfOpenProbes probe successes, until honoured', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 1_000 }),
        fc.array(command, { maxLength: 120, size: 'max' }),
        (maxFailures, probes, cooldown, commands) => {
          let now = 0;
          const breaker: Breaker = new ConsecutiveBreaker({ maxFailures, cooldown, halfOpenProbes: probes }, { now: () => now });
          const admitted: Exclude<Admission, false>[] = [];
          let consecutive = 0;
          let periodSuccesses = 0; // probe successes of the current half-open period
          for (const cmd of commands) {
            const before = breaker.state;
            if (cmd.kind === 'advance') {
              now += cmd.ms;
              continue;
            }
            if (cmd.kind === 'acquire') {
              const expectAdmit = breaker.canAcquire();
              const admission = breaker.acquire();
              expect(admission !== false).toBe(expectAdmit);
              if (before.kind === 'open' && breaker.state.kind === 'half-open') periodSuccesses = 0;
              if (before.kind === 'open' && now < before.until) expect(admission).toBe(false);
              if (before.kind === 'closed') expect(admission).toBe('call');
              if (admission !== false) admitted.push(admission);
            } else if (admitted.length > 0) {
              const admission = admitted.splice(cmd.index % admitted.length, 1)[0]!;
              if (cmd.outcome === 'release') breaker.release(admission);
              else breaker[cmd.outcome](admission, 0);
              if (admission === 'call' && before.kind === 'closed') {
                if (cmd.outcome === 'failure') consecutive++;
                if (cmd.outcome === 'success') consecutive = 0;
                if (consecutive >= maxFailures) {
                  expect(breaker.state).toMatchObject({ kind: 'open', until: now + cooldown });
                  consecutive = 0;
                } else {
                  expect(breaker.state.kind).toBe('closed');
                }
              }
              if (admission === 'probe' && before.kind === 'half-open' && cmd.outcome !== 'release') {
                // A half-open period closes once halfOpenProbes probes have succeeded; a failure reopens it.
                if (cmd.outcome === 'failure') expect(breaker.state).toMatchObject({ kind: 'open', trips: before.trips + 1 });
                else expect(breaker.state.kind).toBe(++periodSuccesses === probes ? 'closed' : 'half-open');
                consecutive = 0;
              }
            }
            // Invariant: never more probes in flight than permitted.
            expect(admitted.filter((a) => a === 'probe').length).toBeLessThanOrEqual(probes);
            if (breaker.state.kind === 'closed' && before.kind !== 'closed') consecutive = 0;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('pool with breakers (property)', () => {
  it('never picks an open client while another is eligible; fails fast only when none is', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('call' as const), fails: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }) }),
            fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 600 }) }),
            fc.record({ kind: fc.constant('toggle' as const), index: fc.nat(3) }),
          ),
          { maxLength: 80, size: 'max' },
        ),
        async (ops) => {
          const clock = new ManualClock();
          const pool = new ClientPool<{ id: number }>({ clock, breaker: { maxFailures: 2, cooldown: 500 } });
          const clients = [0, 1, 2, 3].map((id) => ({ id }));
          const present = new Set<number>();
          for (const c of clients) {
            pool.add(c, { name: `c${c.id}` });
            present.add(c.id);
          }
          for (const op of ops) {
            if (op.kind === 'advance') clock.advance(op.ms);
            else if (op.kind === 'toggle') {
              const client = clients[op.index]!;
              if (present.has(client.id)) {
                await pool.remove(client);
                present.delete(client.id);
              } else {
                pool.add(client, { name: `c${client.id}` });
                present.add(client.id);
              }
            } else {
              const eligible = pool.members().filter((m) => m.state.kind === 'closed' || (m.state.kind === 'open' && m.state.until <= clock.time) || m.state.kind === 'half-open');
              let picked: number | undefined;
              const result = await pool
                .run((client) => {
                  picked = client.id;
                  if (op.fails[client.id]) throw new Error('x');
                  return client.id;
                })
                .catch((e: unknown) => e);
              if (picked === undefined) {
                expect(result).toBeInstanceOf(pool.size === 0 ? Error : AllCircuitsOpenError);
                expect(eligible).toEqual([]);
              } else {
                expect(eligible.map((m) => m.name)).toContain(`c${picked}`);
              }
            }
          }
          const totals = pool.members().reduce((sum, m) => sum + m.inFlight, 0);
          expect(totals).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
