import type { StageContext } from './context.js';
import { handledRejection, invokeStep, type Stage } from './stage.js';

/**
 * Arm what may end the attempt early: its deadline (one shared timer for the pool), the caller's signal
 * (one listener per signal, however many calls share it) and, for hedged calls, a hedge winning elsewhere.
 * The pick stage made the promise the caller waits on (`RaceState.open`); from here on an early end settles
 * it at once, so a function that ignores its signal still ends on time. Attempts that nothing can end
 * early pass straight through.
 */
export function raceStage<T>(context: StageContext<T>): Stage<T> {
  return (next) => {
    const isLast = next === invokeStep;
    return (attempt) => {
      const race = attempt.race;
      if (race === undefined) return next(attempt);
      race.isArmed = true;
      race.arm(context);
      const signal = attempt.options.signal;
      if (signal !== undefined) context.signals.join(signal, race);
      // Ended already (the caller left, a hedge won, the deadline passed) while it was being set up: the
      // caller's promise is settled by that end, and the function never starts.
      const ended = attempt.endError;
      if (ended !== undefined) return handledRejection(ended);
      return isLast ? invokeStep(attempt) : next(attempt);
    };
  };
}
