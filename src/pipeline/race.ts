import type { StageContext } from './context.js';
import { invokeStep, type Stage } from './stage.js';

/**
 * Race the rest of the chain against what may end the attempt early: its deadline (one shared timer for
 * the pool), the caller's signal (one listener per signal, however many calls share it) and, for hedged
 * calls, a hedge winning elsewhere. So a function that ignores its signal still ends on time. Attempts
 * that nothing can end early skip it and cost no promise.
 */
export function raceStage<T>(context: StageContext<T>): Stage<T> {
  return (next) => {
    const isLast = next === invokeStep;
    return (attempt) => {
    const race = attempt.race;
    if (race === undefined) return next(attempt);
    return new Promise((resolve, reject) => {
      race.reject = reject;
      race.arm(context);
      const signal = attempt.options.signal;
      if (signal !== undefined) context.signals.join(signal, race);
      // Ended already (the caller left, a hedge won) while it was being set up: the function never starts.
      if (attempt.endError !== undefined) {
        reject(attempt.endError);
        return;
      }
      let result: Promise<unknown>;
      try {
        result = isLast ? invokeStep(attempt) : next(attempt);
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- classified by the pick stage
        result = Promise.reject(error);
      }
      result.then(resolve, reject);
    });
    };
  };
}
