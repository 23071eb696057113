import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS } from '../src/index.js';
import { call, defaultPool } from './core.js';
import type { Candidate } from './harness.js';

/** Named in bench/micro.ts, which describes and orders the candidates. */
export const DIAGNOSTICS_SUBSCRIBED = 'clientpool default + diagnostics_channel subscribers';

/**
 * The default call with a subscriber on every clientpool channel (the `clientpool:call` TracingChannel,
 * attempt start and end, circuit, rate limit), subscribed only during this candidate's own loops: the
 * cost of being observed. Without a subscriber, the publish points are `hasSubscribers` reads inside
 * every clientpool candidate, `clientpool default` included: compare the two in the same run.
 */
export function diagnosticsCandidates(): Candidate[] {
  const pool = defaultPool();
  const traced = tracingChannel(CHANNELS.call);
  const tracer = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
  const plain = [CHANNELS.attemptStart, CHANNELS.attemptEnd, CHANNELS.circuit, CHANNELS.rateLimit];
  return [
    {
      name: DIAGNOSTICS_SUBSCRIBED,
      run: () => pool.run(call),
      close: () => pool.close(),
      before: () => {
        traced.subscribe(tracer);
        for (const name of plain) subscribe(name, noop);
      },
      after: () => {
        traced.unsubscribe(tracer);
        for (const name of plain) unsubscribe(name, noop);
      },
    },
  ];
}

function noop(): void {}
