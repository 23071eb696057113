/**
 * Load: a million calls, up to ten thousand in flight, over twenty clients with seeded random
 * failures, latencies, timeouts, caller aborts, an outage and a client that ignores its signal. Nothing
 * may leak, be miscounted or settle twice, and the Prometheus adapter must agree with the pool.
 *
 * Time is fake and the simulation is deterministic: `Date.now()`, `setTimeout` and `clearTimeout` are
 * faked (the pool's clock is `Date.now`, its timeouts and retry backoffs are fake timers), and the
 * clients settle from a time wheel that the test turns one simulated millisecond at a time, draining
 * every microtask in between. Client latency therefore costs no real time and no timer.
 *
 * Size: CALLS = 1 000 000 x HARDENING_SCALE (default 1: CI runs the full million, 10 000 callers in
 * flight, about 1 400 simulated ms). Measured on a quiet 2-core machine: 10 to 25 s of real time, several
 * times that on a busy one; nothing here depends on it (the test's timeout only stops a hang).
 * `HARDENING_SCALE=0.1` gives a 100 000-call run (about 1 s) for a quick local check.
 */
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, isClientPoolError, seededRandom, TimeoutError, type Call, type RunOptions } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';

const SCALE = Number(process.env['HARDENING_SCALE'] ?? '1');
const CALLS = Math.round(1_000_000 * (Number.isFinite(SCALE) && SCALE > 0 ? SCALE : 1));
const CONCURRENCY = Math.min(10_000, CALLS);
const CLIENTS = 20;
const RETRY_BUDGET = { ratio: 0.1, reserve: 50 };
const ATTEMPTS = 3;
/** Simulated ms the wheel can hold ahead of now: more than the longest latency or abort delay. */
const WHEEL = 1_024;

/** A fake upstream: its failure behaviour and what it saw, counted when each attempt was decided. */
interface Upstream {
  readonly name: string;
  readonly failureRate: number;
  /** An outage: every attempt fails while the calls started are between these fractions of CALLS. */
  readonly outage: readonly [number, number] | undefined;
  /** A client that ignores its signal keeps running after a timeout or abort; its late answer must be dropped. */
  readonly honoursSignal: boolean;
  attempts: number;
  successes: number;
  failures: number;
  cancelled: number;
  closed: number;
}

function upstreams(): Upstream[] {
  return Array.from({ length: CLIENTS }, (_, i) => ({
    name: `u${String(i).padStart(2, '0')}`,
    failureRate: i === 16 || i === 17 ? 0.25 : 0.01,
    outage: i === 18 ? ([0.2 * CALLS, 0.4 * CALLS] as const) : undefined,
    honoursSignal: i !== 19,
    attempts: 0,
    successes: 0,
    failures: 0,
    cancelled: 0,
    closed: 0,
  }));
}

/** Things due at a simulated millisecond: client answers and caller aborts. */
class Wheel {
  readonly #slots: (() => void)[][] = Array.from({ length: WHEEL }, () => []);
  size = 0;
  at(time: number, task: () => void): void {
    const delay = time - Date.now();
    if (delay < 1 || delay >= WHEEL) throw new Error(`wheel delay out of range: ${delay}`);
    this.#slots[time % WHEEL]!.push(task);
    this.size++;
  }
  /** Run what is due now. */
  runDue(): void {
    const slot = this.#slots[Date.now() % WHEEL]!;
    if (slot.length === 0) return;
    this.#slots[Date.now() % WHEEL] = [];
    this.size -= slot.length;
    for (const task of slot) task();
  }
}

/** Let every promise reaction run: setImmediate is real here, and runs after the microtask queue is empty. */
const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Sum the samples of one metric from `getMetricsAsJSON()`, per value of the `client` label. */
async function scrapeByClient(registry: Registry, name: string): Promise<Map<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const byClient = new Map<string, number>();
  for (const sample of (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[]) {
    const client = String(sample.labels['client']);
    byClient.set(client, (byClient.get(client) ?? 0) + sample.value);
  }
  return byClient;
}

describe('load', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it(`${CALLS} calls, up to ${CONCURRENCY} in flight over ${CLIENTS} clients: every count adds up, nothing settles twice or hangs, Prometheus agrees`, async () => {
    const started = performance.now();
    const random = seededRandom(8);
    const clients = upstreams();
    const registry = new Registry();
    const clock = { now: () => Date.now() };
    const pool = new ClientPool<Upstream>({
      clock,
      random: seededRandom(9),
      strategy: 'least-in-flight',
      breaker: { maxFailures: 5, cooldown: 50, halfOpenProbes: 2, cooldownMultiplier: 2, maxCooldown: 400 },
      retry: { attempts: ATTEMPTS, backoff: { initial: 1, max: 20, jitter: 'full' } },
      retryBudget: RETRY_BUDGET,
      middleware: [prometheusMetrics({ registry })],
    });
    const close = (c: Upstream): void => {
      c.closed++;
    };
    for (const client of clients) pool.add(client, { name: client.name, close });
    const transitions = new Map<string, number>();
    pool.onStateChange(({ client }) => transitions.set(client, (transitions.get(client) ?? 0) + 1));

    const wheel = new Wheel();
    const settledTimes = new Uint8Array(CALLS);
    const attemptsOf = new Uint8Array(CALLS);
    const successfulAttemptsOf = new Uint8Array(CALLS);
    const resolvedOk = new Uint8Array(CALLS);
    const outcomes = new Map<string, number>();
    let nextId = 0;
    let pending = 0;
    let maxPending = 0;
    let maxInFlight = 0;

    /** One attempt on an upstream. Decides, at the first of its answer or its signal's abort, how the pool must count it. */
    const attempt = (u: Upstream, call: Call<Upstream>, id: number): Promise<string> => {
      u.attempts++;
      attemptsOf[id]!++;
      const now = Date.now();
      const isOutage = u.outage !== undefined && nextId >= u.outage[0] && nextId < u.outage[1];
      const fails = isOutage || random() < u.failureRate;
      const latency = random() < 0.005 ? 100 + Math.floor(random() * 200) : 1 + Math.floor(random() ** 3 * 40);
      return new Promise<string>((resolve, reject) => {
        let isDecided = false;
        const decide = (outcome: 'successes' | 'failures' | 'cancelled'): void => {
          if (isDecided) return;
          isDecided = true;
          u[outcome]++;
          if (outcome === 'successes') successfulAttemptsOf[id]!++;
        };
        const signal = call.signal;
        const hasSignal = call.options.signal !== undefined || call.options.timeout !== undefined;
        const onAbort = (): void => {
          decide(signal.reason instanceof TimeoutError ? 'failures' : 'cancelled');
          if (u.honoursSignal) reject(signal.reason as Error);
        };
        if (hasSignal) signal.addEventListener('abort', onAbort, { once: true });
        wheel.at(now + latency, () => {
          if (hasSignal) signal.removeEventListener('abort', onAbort);
          decide(fails ? 'failures' : 'successes');
          if (fails) reject(new Error(`${u.name} failed`));
          else resolve(u.name);
        });
      });
    };

    const worker = async (): Promise<void> => {
      for (let id = nextId++; id < CALLS; id = nextId++) {
        const r = random();
        let options: RunOptions<Upstream> = { method: r < 0.5 ? 'get' : 'put' };
        if (r < 0.001) {
          options = { ...options, signal: AbortSignal.abort(new Error('aborted before the call')) };
        } else if (r < 0.03) {
          const controller = new AbortController();
          wheel.at(Date.now() + 1 + Math.floor(random() * 60), () => controller.abort(new Error('caller gave up')));
          options = { ...options, signal: controller.signal };
        }
        if (random() < 0.02) options = { ...options, timeout: 25 };
        pending++;
        if (pending > maxPending) maxPending = pending;
        try {
          await pool.run((client, call) => attempt(client, call, id), options);
          resolvedOk[id] = 1;
          outcomes.set('ok', (outcomes.get('ok') ?? 0) + 1);
        } catch (error) {
          const code = isClientPoolError(error) ? error.code : `not a clientpool error: ${String(error)}`;
          outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
        } finally {
          settledTimes[id]!++;
          pending--;
        }
      }
    };

    const workers = Array.from({ length: CONCURRENCY }, worker);
    let isDone = false;
    const all = Promise.all(workers).then(() => {
      isDone = true;
    });
    await drain();
    // Turn the simulated clock until every caller is done and every straggling answer has come in.
    while (!isDone || wheel.size > 0 || vi.getTimerCount() > 0) {
      let inFlight = 0;
      for (const member of pool.members()) inFlight += member.inFlight;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      vi.advanceTimersByTime(1); // timeouts and retry backoffs due now
      await drain();
      wheel.runDue(); // answers and caller aborts due now
      await drain();
      if (Date.now() > 1_000_000) throw new Error('the simulation does not finish');
    }
    await all;
    const simulatedMs = Date.now();

    // Every call settled exactly once; none is pending.
    expect(pending).toBe(0);
    let settledOnce = 0;
    let badAttempts = 0;
    let extraAttempts = 0;
    let successMismatch = 0;
    for (let id = 0; id < CALLS; id++) {
      if (settledTimes[id] === 1) settledOnce++;
      if (attemptsOf[id]! > ATTEMPTS) badAttempts++;
      if (attemptsOf[id]! > 1) extraAttempts += attemptsOf[id]! - 1;
      // A call resolves exactly when one of its attempts succeeded: never two, never a dropped success.
      if (successfulAttemptsOf[id] !== resolvedOk[id]) successMismatch++;
    }
    expect(settledOnce).toBe(CALLS);
    expect(badAttempts).toBe(0);
    expect(successMismatch).toBe(0);
    // The pool's retry budget held under load: extra attempts <= reserve + ratio x calls.
    expect(extraAttempts).toBeLessThanOrEqual(RETRY_BUDGET.reserve + RETRY_BUDGET.ratio * CALLS);
    // Every rejection is a clientpool error with a code.
    expect([...outcomes.keys()].filter((k) => k.startsWith('not a clientpool error'))).toEqual([]);
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(CALLS);

    // Per client, the pool's counts are exactly what the client saw.
    const members = pool.members();
    for (const u of clients) {
      const member = members.find((m) => m.name === u.name)!;
      expect({ name: u.name, successes: member.successes, failures: member.failures, cancelled: member.cancelled, inFlight: member.inFlight }).toEqual({
        name: u.name,
        successes: u.successes,
        failures: u.failures,
        cancelled: u.cancelled,
        inFlight: 0,
      });
      expect(u.successes + u.failures + u.cancelled).toBe(u.attempts);
    }
    const totalAttempts = clients.reduce((sum, u) => sum + u.attempts, 0);
    expect(members.reduce((sum, m) => sum + m.successes + m.failures + m.cancelled, 0)).toBe(totalAttempts);
    expect(clients.reduce((sum, u) => sum + u.successes, 0)).toBe(outcomes.get('ok'));
    // The outage opened a breaker, and it closed again.
    expect(transitions.get('u18') ?? 0).toBeGreaterThanOrEqual(3);
    expect(members.find((m) => m.name === 'u18')!.state.kind).toBe('closed');

    // The Prometheus adapter's totals equal the pool's, per client.
    const requests = await scrapeByClient(registry, 'middleware_requests_total');
    const errors = await scrapeByClient(registry, 'middleware_request_errors_total');
    const cancelled = await scrapeByClient(registry, 'middleware_request_cancelled_total');
    const retries = await scrapeByClient(registry, 'middleware_retries_total');
    const inFlightGauge = await scrapeByClient(registry, 'middleware_in_flight');
    const transitionCounter = await scrapeByClient(registry, 'middleware_circuit_transitions_total');
    for (const u of clients) {
      expect({
        client: u.name,
        requests: requests.get(u.name),
        errors: errors.get(u.name) ?? 0,
        cancelled: cancelled.get(u.name) ?? 0,
        inFlight: inFlightGauge.get(u.name),
        transitions: transitionCounter.get(u.name) ?? 0,
      }).toEqual({ client: u.name, requests: u.attempts, errors: u.failures, cancelled: u.cancelled, inFlight: 0, transitions: transitions.get(u.name) ?? 0 });
    }
    expect([...retries.values()].reduce((a, b) => a + b, 0)).toBe(extraAttempts);

    // close() runs every close hook and leaves no timer.
    await pool.close();
    expect(clients.every((u) => u.closed === 1)).toBe(true);
    expect(pool.members()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);

    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.info(
      `load: ${CALLS} calls, ${totalAttempts} attempts (${extraAttempts} retries), max ${maxPending} calls pending, max ${maxInFlight} attempts in flight, ` +
        `${simulatedMs} simulated ms, ${seconds} s real; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`,
    );
    expect(maxPending).toBe(CONCURRENCY);
    // A bound on a hang, not on speed: the simulated run has the same length on any machine.
  }, 900_000);
});
