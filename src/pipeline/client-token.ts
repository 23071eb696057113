import { isClientPoolError } from '../errors.js';
import type { StageContext } from './context.js';
import { limiterFailure, takeToken } from './pool-token.js';
import type { Stage } from './stage.js';

/**
 * The chosen client's own shared limit (a Redis bucket a fleet shares): answered asynchronously, so it
 * is waited on after the pick rather than routed around. A refusal ends the attempt as `refused`.
 */
export function clientTokenStage<T>(context: StageContext<T>): Stage<T> {
  return (next) => (attempt) => {
    const limiter = attempt.member!.sharedLimiter;
    if (limiter === undefined) return next(attempt);
    const since = context.now();
    return takeToken(limiter.take.bind(limiter), attempt, context.deadlines).then(
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
