import { isClientPoolError } from '../errors.js';
import type { StageContext } from './context.js';
import { limiterFailure, takeToken } from './pool-token.js';
import type { Stage } from './stage.js';

/**
 * The chosen client's own shared limits (a Redis bucket a fleet shares): answered asynchronously, so they
 * are waited on after the pick rather than routed around, each for the attempt's cost. A refusal ends the
 * attempt as `refused`.
 */
export function clientTokenStage<T>(context: StageContext<T>): Stage<T> {
  const now = (): number => context.now();
  return (next) => (attempt) => {
    const quota = attempt.member!.quota;
    if (quota === undefined || !quota.hasShared) return next(attempt);
    const since = context.now();
    const cost = attempt.plan.cost;
    return takeToken((options) => quota.take(cost, options, false, now), attempt, context.deadlines).then(
      () => {
        attempt.checkStillWanted(context.deadlines);
        if (context.now() > since) context.reportLimit('client', attempt.clientName, attempt.method, since, false);
        if (context.isTimed) attempt.startTimer(context.now());
        return next(attempt);
      },
      (error: unknown) => {
        if (isClientPoolError(error) && error.code === 'ERR_RATE_LIMITED') context.reportLimit('client', attempt.clientName, attempt.method, since, true);
        throw limiterFailure(`client ${attempt.clientName}'s limit.take()`, error, attempt);
      },
    );
  };
}
