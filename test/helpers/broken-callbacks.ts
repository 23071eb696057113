// The ways a user callback breaks its contract, for table-driven tests of the adapters' guards, and what
// such a test checks was left behind.
import { expect, vi } from 'vitest';
import { unhandledDuring } from './unhandled.js';

/** A callback per way of breaking: a throw, a promise (rejecting or not) where none is awaited, garbage. */
export const brokenCallbacks: readonly (readonly [string, () => unknown])[] = [
  [
    'throws',
    () => {
      throw new Error('callback broke');
    },
  ],
  ['returns a promise that rejects', () => Promise.reject(new Error('async callback broke'))],
  ['returns a promise that resolves', () => Promise.resolve('late')],
  ['returns undefined', () => undefined],
  ['returns a number', () => 42],
  ['returns an empty string', () => ''],
];

/** An options object whose `key` is an enumerable getter that throws `cause`. */
export function throwingGetter(key: string, base: object = {}): { options: object; cause: Error } {
  const cause = new Error(`${key} getter broke`);
  const options = Object.defineProperty({ ...base }, key, {
    enumerable: true,
    get() {
      throw cause;
    },
  });
  return { options, cause };
}

/** What running code with a broken callback left behind: process warnings, and unhandled rejections. */
export interface Fallout {
  readonly warnings: { text: string; code: string | undefined }[];
  readonly unhandled: unknown[];
}

/**
 * Run `body` with `process.emitWarning` recorded (and silenced), and collect the unhandled rejections it
 * leaves (a few turns after it, too). The spy is restored before this resolves.
 */
export async function falloutOf(body: () => Promise<void> | void): Promise<Fallout> {
  const warnings: { text: string; code: string | undefined }[] = [];
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((warning: string | Error, options?: { code?: string }) => {
    warnings.push({ text: String(warning), code: options?.code });
  }) as typeof process.emitWarning);
  try {
    const unhandled = await unhandledDuring(async () => {
      await body();
    });
    return { warnings, unhandled };
  } finally {
    spy.mockRestore();
  }
}

/** The one warning a failed callback named `name` is reported with. */
export function callbackWarning(name: string): { text: string; code: string } {
  return { text: expect.stringContaining(`${name} failed`) as string, code: 'CLIENTPOOL_CALLBACK_ERROR' };
}

/** Calls in flight on each member of a pool: all 0 once every call ended. */
export function inFlight(pool: { members(): readonly { readonly inFlight: number }[] }): number[] {
  return pool.members().map((m) => m.inFlight);
}
