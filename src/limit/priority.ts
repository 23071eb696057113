import { InvalidOptionError } from '../errors.js';
import { between } from '../validate.js';
import type { Priority } from '../call.js';

/** Priorities as numbers: higher is served first. */
export const LOW = 0;
export const NORMAL = 1;
export const HIGH = 2;

const LEVELS: Readonly<Record<Priority, number>> = { low: LOW, normal: NORMAL, high: HIGH };

/**
 * A `priority` option as its number.
 * @throws InvalidOptionError naming `option` for anything but `'high'`, `'normal'` or `'low'`.
 */
export function priorityOption(option: string, value: unknown): number {
  if (typeof value === 'string' && Object.hasOwn(LEVELS, value)) return LEVELS[value as Priority];
  throw new InvalidOptionError(option, "'high', 'normal' or 'low'", value);
}

/** The pool's `reserve`: a share from 0 to below 1, 0.2 when absent. */
export function reserveOption(value: unknown): number {
  if (value === undefined) return 0.2;
  const share = between('reserve', value, 0, 1);
  if (share === 1) throw new InvalidOptionError('reserve', 'a number from 0 to below 1 (1 would keep everything from low-priority calls)', value);
  return share;
}
