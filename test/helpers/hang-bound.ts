/**
 * How long a test that starts processes or runs the TypeScript compiler may take before it counts as hung.
 * A bound on hanging, never a speed assertion: on a machine with six busy processes on two cores
 * (`npm run test:busy`) one compile took 9.5 minutes, and a 60 s bound failed working code. Ten minutes
 * still ends a real hang well inside CI's 90.
 */
export const HANG_BOUND_MS = 600_000;
