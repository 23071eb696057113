import { channel } from 'node:diagnostics_channel';
import { call, clients, type EchoClient } from './core.js';
import type { Candidate } from './harness.js';

export const STUB = 'stub: the floor plus what run() promises';

const REFUSED = 0;
const CALL = 1;
const PROBE = 2;
type Admission = typeof REFUSED | typeof CALL | typeof PROBE;

const COOLDOWN_MS = 10_000;

/** Opened after 5 consecutive failures; after the cooldown, one probe whose outcome closes or reopens it. */
class StubBreaker {
  #state: 'closed' | 'open' | 'half-open' = 'closed';
  #failures = 0;
  #openUntil = 0;
  #isProbing = false;

  acquire(): Admission {
    return this.#state === 'closed' ? CALL : this.#acquireOpen();
  }

  #acquireOpen(): Admission {
    if (this.#state === 'open') {
      if (performance.now() < this.#openUntil) return REFUSED;
      this.#state = 'half-open';
    }
    if (this.#isProbing) return REFUSED;
    this.#isProbing = true;
    return PROBE;
  }

  success(admission: Admission): void {
    if (admission === PROBE) {
      this.#isProbing = false;
      this.#state = 'closed';
      this.#failures = 0;
    } else if (this.#state === 'closed') this.#failures = 0;
  }

  failure(admission: Admission): void {
    if (admission === PROBE) this.#isProbing = false;
    else if (this.#state !== 'closed' || ++this.#failures < 5) return;
    this.#state = 'open';
    this.#openUntil = performance.now() + COOLDOWN_MS;
  }
}

class StubMember {
  readonly breaker = new StubBreaker();
  inFlight = 0;
  successes = 0;
  isReady = true;
  /** Whether something optional is on for this client (a cap, a quota, warm-up): such a call takes a path of its own. */
  hasFeatures = false;
  /** Bumped by destroy(): a call bound before it was released, and its end is no verdict. */
  epoch = 0;
  /** Set by close() or remove() while the client's calls drain. */
  drained: (() => void) | undefined = undefined;

  constructor(
    readonly client: EchoClient,
    readonly slot: number,
  ) {}
}

const RUNNING = 1;
const ENDED = 2;

/** The object a call's function is given, recognised by its brand as the pool's own. */
class StubCall {
  /** Running or ended; a private field, so also the brand that tells the pool's own call object from a copy. */
  #state = 0;
  member: StubMember | undefined = undefined;
  admission: Admission = REFUSED;
  epoch = 0;

  get method(): string {
    return 'unknown';
  }

  get attempt(): number {
    return 1;
  }

  bind(member: StubMember, admission: Admission): void {
    this.member = member;
    this.admission = admission;
    this.epoch = member.epoch;
    this.#state = RUNNING;
  }

  /** False when it had ended already: a call settles once. */
  end(): boolean {
    if (this.#state === ENDED) return false;
    this.#state = ENDED;
    return true;
  }
}

class StubRoundRobin {
  #next = 0;

  pick(ready: readonly StubMember[]): StubMember | undefined {
    return ready[this.#next++ % ready.length];
  }
}

class StubError extends Error {
  readonly code = 'ERR_CLIENT_CALL';
}

/**
 * An estimate of the least the default call (`run(fn)`, no options) could cost: the floor (bench/floor.ts)
 * plus the per-call work `run()`'s contract asks of any design. The closed and `fn` checks; a pool-wide
 * and a per-client "nothing optional is on" test (tiers, limits, caps, warm-up, panic mode: paths of
 * their own); the balancer behind its interface, guarded (a user's may throw or return a stranger); a
 * breaker object per client that half-opens and probes; a branded call object with its state, admission
 * and the epoch that `destroy()` bumps, so that a released call's end is no verdict and a call settles
 * once; the `hasSubscribers` reads of the call, attempt-start and attempt-end channels and an observers
 * check; a thenable adopted; the drain check that `close()` and `remove()` wait on; a typed error with
 * its cause. Not a design to use: the gap between it and clientpool's default is mostly what the
 * pipeline's own structure costs.
 */
export function stubCandidate(): Candidate {
  const members = clients.map((client, slot) => new StubMember(client, slot));
  const balancer = new StubRoundRobin();
  const callChannel = channel('bench:stub:call');
  const startChannel = channel('bench:stub:attempt:start');
  const endChannel = channel('bench:stub:attempt:end');
  const observers: unknown[] = [];
  const pool = { isClosing: false, hasFeatures: false };

  const settle = (stubCall: StubCall, member: StubMember, isSuccess: boolean): void => {
    // Released by destroy() (or ended already): its end is no verdict.
    if (!stubCall.end() || stubCall.epoch !== member.epoch) return;
    if (observers.length !== 0 || endChannel.hasSubscribers) endChannel.publish(stubCall);
    member.inFlight--;
    if (isSuccess) {
      member.successes++;
      member.breaker.success(stubCall.admission);
    } else member.breaker.failure(stubCall.admission);
    if (member.drained !== undefined && member.inFlight === 0) member.drained();
  };

  const run = (fn: (client: EchoClient, call: StubCall) => unknown): Promise<unknown> => {
    if (pool.isClosing || typeof fn !== 'function' || callChannel.hasSubscribers || pool.hasFeatures) return Promise.reject(new StubError('closed, not a function, traced, or a feature on'));
    let member: StubMember | undefined;
    try {
      member = balancer.pick(members);
    } catch (error) {
      return Promise.reject(new StubError('the balancer threw', { cause: error }));
    }
    if (member === undefined || members[member.slot] !== member || !member.isReady || member.hasFeatures) return Promise.reject(new StubError('a stranger, or a client with a feature on'));
    const admission = member.breaker.acquire();
    if (admission === REFUSED) return Promise.reject(new StubError('open'));
    const stubCall = new StubCall();
    member.inFlight++;
    stubCall.bind(member, admission);
    if (startChannel.hasSubscribers) startChannel.publish(stubCall);
    let result: Promise<unknown>;
    try {
      const value = fn(member.client, stubCall);
      result = value instanceof Promise && value.constructor === Promise ? (value as Promise<unknown>) : Promise.resolve(value);
    } catch (error) {
      result = Promise.reject(error);
    }
    const held = member;
    return result.then(
      (value) => {
        settle(stubCall, held, true);
        return value;
      },
      (error: unknown) => {
        settle(stubCall, held, false);
        throw new StubError('the call failed', { cause: error });
      },
    );
  };
  return { name: STUB, run: () => run(call) };
}
