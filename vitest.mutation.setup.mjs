import fc from 'fast-check';

// Under StrykerJS a failing property is the verdict: shrinking its counterexample (often thousands of
// runs) only slows the mutant down. Each property still runs its full numRuns when it passes.
fc.configureGlobal({ endOnFailure: true });
