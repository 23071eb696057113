import { channel } from 'node:diagnostics_channel';
import { call, clients, type EchoClient } from './core.js';
import type { Candidate } from './harness.js';

export const STUB = 'stub: the floor plus what run() promises';

/** A circuit per client, as small as one can be: closed or open, opened after 5 consecutive failures. */
class StubBreaker {
  isOpen = false;
  failures = 0;

  acquire(): boolean {
    return !this.isOpen;
  }

  success(): void {
    this.failures = 0;
  }

  failure(): void {
    if (++this.failures >= 5) this.isOpen = true;
  }
}

class StubMember {
  readonly breaker = new StubBreaker();
  inFlight = 0;
  readonly maxInFlight = Number.POSITIVE_INFINITY;
  isReady = true;
  successes = 0;

  constructor(
    readonly client: EchoClient,
    readonly slot: number,
  ) {}
}

/** The object a call's function is given, recognised by its brand as the pool's own. */
class StubCall {
  readonly #brand = true;
  member: StubMember | undefined = undefined;

  constructor(
    readonly fn: (client: EchoClient, call: StubCall) => unknown,
    readonly method: string,
    readonly attempt: number,
  ) {}

  static isCall(value: object): boolean {
    return #brand in value;
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
 * The floor (bench/floor.ts) plus what `run()`'s contract asks of any design, and nothing more: the
 * closed and `fn` checks; a call object per call, with a brand, given to the function; the balancer
 * behind its interface, guarded (it may throw or return a stranger); a breaker object per client; an
 * in-flight cap; the `hasSubscribers` reads of the call, attempt-start and attempt-end channels; an
 * observers check; a thenable adopted; one settle; a typed error with its cause. No options, waits,
 * tiers, quotas, warm-up, events or destroy(). Not a design to use: the least the default call could
 * cost, so that the gap between it and clientpool's default is what the rest of the pipeline costs.
 */
export function stubCandidate(): Candidate {
  const members = clients.map((client, slot) => new StubMember(client, slot));
  const balancer = new StubRoundRobin();
  const callChannel = channel('bench:stub:call');
  const startChannel = channel('bench:stub:attempt:start');
  const endChannel = channel('bench:stub:attempt:end');
  const observers: unknown[] = [];
  const state = { isClosing: false };

  const fail = (member: StubMember, error: unknown): never => {
    member.inFlight--;
    member.breaker.failure();
    throw new StubError('the call failed', { cause: error });
  };

  const run = (fn: (client: EchoClient, call: StubCall) => unknown): Promise<unknown> => {
    if (state.isClosing || typeof fn !== 'function' || callChannel.hasSubscribers) return Promise.reject(new StubError('closed, not a function, or traced'));
    const stubCall = new StubCall(fn, 'unknown', 1);
    let member: StubMember | undefined;
    try {
      member = balancer.pick(members);
    } catch (error) {
      return Promise.reject(new StubError('the balancer threw', { cause: error }));
    }
    if (member === undefined || members[member.slot] !== member || !member.isReady) return Promise.reject(new StubError('the balancer returned a stranger'));
    if (!member.breaker.acquire() || member.inFlight >= member.maxInFlight) return Promise.reject(new StubError('open or full'));
    member.inFlight++;
    stubCall.member = member;
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
        if (observers.length !== 0 || endChannel.hasSubscribers) endChannel.publish(stubCall);
        held.inFlight--;
        held.successes++;
        held.breaker.success();
        return value;
      },
      (error: unknown) => fail(held, error),
    );
  };
  return { name: STUB, run: () => run(call) };
}
