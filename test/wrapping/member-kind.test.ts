// isResource: what the proxy takes for a nested resource at run time. A class instance is one; a plain
// object only when it holds methods or resources and no data (ioredis's `options` is data).
import { describe, expect, it } from 'vitest';
import { isResource } from '../../src/wrapping/member-kind.js';

class Completions {
  create(): Promise<string> {
    return Promise.resolve('done');
  }
}

describe('isResource', () => {
  it('a plain object holding data next to a function is a value (ioredis options)', () => {
    expect(isResource({ port: 6379, host: 'localhost', retryStrategy: () => 50 })).toBe(false);
    expect(isResource({ completions: new Completions(), config: { timeout: 5 } })).toBe(false);
  });

  it('a plain object holding only methods or resources is a resource', () => {
    expect(isResource({ completions: new Completions() })).toBe(true);
    expect(isResource({ list: () => Promise.resolve([]), missing: undefined })).toBe(true);
    expect(isResource({ admin: { db: { drop: () => undefined } } })).toBe(true);
  });

  it('a class instance is a resource; values, empty objects and cycles are not', () => {
    expect(isResource(new Completions())).toBe(true);
    expect(isResource({})).toBe(false);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(isResource(cycle)).toBe(false);
    const throwing = Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw new Error('no'); } });
    expect(isResource(throwing)).toBe(false);
    for (const value of [[], new Map(), new Date(), Promise.resolve(), null, 'text', 5]) expect(isResource(value)).toBe(false);
  });
});
