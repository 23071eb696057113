import { seededRandom, type Random } from '../../src/index.js';

/**
 * An independent seeded stream per purpose (arrivals, each backend's latency, the pool's own picks), so
 * that changing how one part draws numbers (a config that hedges) does not shift the others: every
 * configuration of a scenario sees the same arrivals.
 */
export function stream(seed: number, label: string): Random {
  // FNV-1a of the label, mixed with the seed (murmur3's finaliser) so that nearby seeds diverge.
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return seededRandom((h ^ (h >>> 16)) >>> 0);
}

/** A standard normal draw (Box-Muller; one of the pair is dropped to keep the stream stateless). */
export function normal(random: Random): number {
  const u = 1 - random(); // (0, 1]: log(0) never happens
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A log-normal draw with the given median and shape: p99 = median x e^(2.326 sigma). */
export function logNormal(random: Random, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(random));
}

/** An exponential draw: the gap between Poisson arrivals of rate 1 / mean. */
export function exponential(random: Random, mean: number): number {
  return -mean * Math.log(1 - random());
}
