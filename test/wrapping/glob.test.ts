import { describe, expect, it } from 'vitest';
import { globRegExp, isGlob } from '../../src/wrapping/glob.js';

describe('globRegExp', () => {
  it('`*` matches within one segment, `**` across segments, `?` one character; the rest is literal', () => {
    expect(globRegExp('get*').test('getBuffer')).toBe(true);
    expect(globRegExp('get*').test('get')).toBe(true);
    expect(globRegExp('get*').test('a.getBuffer')).toBe(false); // anchored
    expect(globRegExp('chat.*').test('chat.create')).toBe(true);
    expect(globRegExp('chat.*').test('chat.completions.create')).toBe(false);
    expect(globRegExp('chat.**').test('chat.completions.create')).toBe(true);
    expect(globRegExp('se?').test('set')).toBe(true);
    expect(globRegExp('se?').test('se')).toBe(false);
    expect(globRegExp('a.b').test('axb')).toBe(false);
    expect(globRegExp('a+(b)').test('a+(b)')).toBe(true);
  });

  it('tells a glob from a name', () => {
    expect(isGlob('flush*')).toBe(true);
    expect(isGlob('se?')).toBe(true);
    expect(isGlob('chat.completions.create')).toBe(false);
  });
});
