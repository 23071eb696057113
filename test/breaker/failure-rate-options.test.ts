// failureRate() validates its options when it is called, before any pool uses the breaker it makes.
import { describe, it } from 'vitest';
import { failureRate } from '../../src/index.js';
import { expectInvalid, thrownBy } from '../helpers/bad-input.js';

describe('failureRate() with bad input', () => {
  it.each([
    ['failureRate(5)', () => failureRate(5 as never), 'breaker', 5],
    ['failureRate(null)', () => failureRate(null as never), 'breaker', null],
    ['threshold 0', () => failureRate({ threshold: 0 }), 'breaker.threshold', 0],
    ['threshold negative', () => failureRate({ threshold: -0.5 }), 'breaker.threshold', -0.5],
    ['window an array', () => failureRate({ window: [] as never }), 'breaker.window', []],
    ['window.buckets 1.5', () => failureRate({ window: { kind: 'time', ms: 1_000, buckets: 1.5 } }), 'breaker.window.buckets', 1.5],
    ['window.size Infinity', () => failureRate({ window: { kind: 'count', size: Infinity } }), 'breaker.window.size', Infinity],
    ['minimumThroughput Infinity', () => failureRate({ minimumThroughput: Infinity }), 'breaker.minimumThroughput', Infinity],
    ['slowCallDuration Infinity', () => failureRate({ slowCallDuration: Infinity }), 'breaker.slowCallDuration', Infinity],
    ['slowCallThreshold 0', () => failureRate({ slowCallDuration: 10, slowCallThreshold: 0 }), 'breaker.slowCallThreshold', 0],
    ['halfOpenProbes 1.5', () => failureRate({ halfOpenProbes: 1.5 }), 'breaker.halfOpenProbes', 1.5],
    ['maxCooldown negative', () => failureRate({ maxCooldown: -1 }), 'breaker.maxCooldown', -1],
    ['cooldownMultiplier Infinity', () => failureRate({ cooldownMultiplier: Infinity }), 'breaker.cooldownMultiplier', Infinity],
  ] as const)('failureRate(): %s throws InvalidOptionError at once, before any pool uses it', (_label, make, option, value) => {
    expectInvalid(thrownBy(make), option, value);
  });
});
