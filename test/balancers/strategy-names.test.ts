import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { leastInFlight } from '../../src/balancers/least-in-flight.js';
import { mostHeadroom } from '../../src/balancers/most-headroom.js';
import { p2cEwma } from '../../src/balancers/p2c-ewma.js';
import { randomBalancer } from '../../src/balancers/random.js';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { smoothWeightedRoundRobin } from '../../src/balancers/smooth-weighted-round-robin.js';
import { strategies, strategyFactory, validateStrategy } from '../../src/balancers/strategies.js';
import { weightedRandom } from '../../src/balancers/weighted-random.js';

const known = '"round-robin", "weighted-random", "random", "smooth-weighted-round-robin", "least-in-flight", "p2c-ewma", "most-headroom"';

describe('strategies by name', () => {
  it('maps each built-in name to its factory', () => {
    expect(strategies).toEqual({
      'round-robin': roundRobin,
      'weighted-random': weightedRandom,
      random: randomBalancer,
      'smooth-weighted-round-robin': smoothWeightedRoundRobin,
      'least-in-flight': leastInFlight,
      'p2c-ewma': p2cEwma,
      'most-headroom': mostHeadroom,
    });
    expect(strategyFactory('strategy', 'p2c-ewma')).toBe(p2cEwma);
  });

  it('an unknown name (an inherited key too) is refused, naming the option and every valid name', () => {
    for (const name of ['round_robin', 'toString', 'constructor']) {
      const make = (): unknown => strategyFactory('methods.get.strategy', name);
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(`methods.get.strategy must be one of ${known} or a Balancer, got "${name}"`);
    }
  });

  it('validateStrategy takes a known name or an object with pick', () => {
    expect(validateStrategy('strategy', 'random')).toBe('random');
    const balancer = { pick: () => undefined };
    expect(validateStrategy('strategy', balancer)).toBe(balancer);
  });

  it.each([['nope'], [null], [{}], [{ pick: 1 }], [42], [Object.assign(() => undefined, { pick: () => undefined })]])('validateStrategy refuses %j, naming the valid ones', (value) => {
    const make = (): unknown => validateStrategy('strategy', value);
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(`strategy must be one of ${known} or a Balancer, got`);
  });
});
