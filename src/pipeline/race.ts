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
      const promise = new Promise<unknown>(capture);
      const resolve = capturedResolve!;
      const reject = capturedReject!;
      capturedResolve = capturedReject = undefined;
      race.reject = reject;
      try {
        race.arm(context);
        const signal = attempt.options.signal;
        if (signal !== undefined) context.signals.join(signal, race);
        // Ended already (the caller left, a hedge won) while it was being set up: the function never starts.
        if (attempt.endError !== undefined) {
          reject(attempt.endError);
          return promise;
        }
        const result = isLast ? invokeStep(attempt) : next(attempt);
        result.then(resolve, reject);
      } catch (error) {
        // Classified by the pick stage, as a throw from the chain below always was.
        reject(error as Error);
      }
      return promise;
    };
  };
}

/**
 * The resolve and reject of the promise `new Promise(capture)` just made, read at once: the race needs
 * them outside an executor, and a module-level executor makes no closure per timed call.
 */
let capturedResolve: ((value: unknown) => void) | undefined;
let capturedReject: ((error: Error) => void) | undefined;
function capture(resolve: (value: unknown) => void, reject: (error: Error) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}
