import { describe, expect, it } from 'vitest';
import { jsonEqual, MAX_DEPTH } from '../../src/resilience/deep-equal.js';

class Point {
  constructor(readonly x: number) {}
}

const nested = (depth: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { next: value };
  return value;
};

describe('jsonEqual: answers equal as JSON would see them', () => {
  it.each<[string, unknown, unknown]>([
    ['the same number', 1, 1],
    ['0 and -0 (JSON writes both as 0)', 0, -0],
    ['NaN and NaN', Number.NaN, Number.NaN],
    ['bigints of one value', 10n ** 30n, 10n ** 30n],
    ['strings', 'abc', 'abc'],
    ['null and null', null, null],
    ['objects with keys in another order', { a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }],
    ['an undefined key and a missing one', { a: 1, b: undefined }, { a: 1 }],
    ['nested arrays', [[1], [2, [3]]], [[1], [2, [3]]]],
    ['objects without a prototype and plain ones', Object.assign(Object.create(null) as object, { a: 1 }), { a: 1 }],
    ['dates of one time (toJSON)', new Date(5), new Date(5)],
    ['byte arrays of one content', new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])],
    ['byte views at another offset with one content', new Uint8Array([9, 1, 2]).subarray(1), new Uint8Array([1, 2])],
  ])('%s are equal', (_name, a, b) => {
    expect(jsonEqual(a, b)).toBe(true);
    expect(jsonEqual(b, a)).toBe(true);
  });

  it.each<[string, unknown, unknown]>([
    ['different numbers', 1, 2],
    ['a bigint and the number of its value', 1n, 1],
    ['a number and its string', 1, '1'],
    ['null and undefined', null, undefined],
    ['null and an empty object', null, {}],
    ['an array and an object with index keys', [1], { 0: 1 }],
    ['arrays of different length', [1, 2], [1, 2, 3]],
    ['objects with an extra defined key', { a: 1 }, { a: 1, b: 2 }],
    ['objects with one value different deep down', { a: { b: [1, 2] } }, { a: { b: [1, 3] } }],
    ['objects with one key each, different', { a: 1 }, { b: 1 }],
    ['byte arrays of different content', new Uint8Array([1, 2]), new Uint8Array([1, 3])],
    ['a Uint8Array and a Buffer of one content (another kind)', new Uint8Array([1]), Buffer.from([1])],
    ['a byte array and an array', new Uint8Array([1]), [1]],
    ['two class instances with the same fields (no toJSON)', new Point(1), new Point(1)],
    ['two Maps of the same entries', new Map([[1, 2]]), new Map([[1, 2]])],
    ['a date and its ISO string held by another object', new Date(0), { toISOString: () => new Date(0).toISOString() }],
  ])('%s are not equal', (_name, a, b) => {
    expect(jsonEqual(a, b)).toBe(false);
    expect(jsonEqual(b, a)).toBe(false);
  });

  it('takes a cycle met again as equal instead of looping', () => {
    const a: Record<string, unknown> = { v: 1 };
    a['self'] = a;
    const b: Record<string, unknown> = { v: 1 };
    b['self'] = b;
    expect(jsonEqual(a, b)).toBe(true);
    b['v'] = 2;
    expect(jsonEqual(a, b)).toBe(false);
  });

  it('compares up to MAX_DEPTH levels and calls deeper structures unequal, without overflowing the stack', () => {
    expect(jsonEqual(nested(MAX_DEPTH - 1), nested(MAX_DEPTH - 1))).toBe(true);
    expect(jsonEqual(nested(MAX_DEPTH + 5), nested(MAX_DEPTH + 5))).toBe(false);
    expect(jsonEqual(nested(100_000), nested(100_000))).toBe(false);
  });

  it('throws what a getter throws (the quorum turns it into a CallbackError)', () => {
    const boom = new Error('getter');
    const hostile = {
      get a(): number {
        throw boom;
      },
    };
    expect(() => jsonEqual(hostile, { a: 1 })).toThrow(boom);
  });
});
