import { describe, expect, it } from 'vitest';
import { CodegenError } from '../../src/codegen/errors.js';
import { compilePatterns, selectMethod, type Selection } from '../../src/codegen/select.js';

const selection = (include: string[], exclude: string[] = []): Selection => ({
  include: compilePatterns('--include', include),
  exclude: compilePatterns('--exclude', exclude),
});

describe('selectMethod', () => {
  it('wraps everything but the default lists when nothing is given', () => {
    expect(selectMethod(['get'], selection([]))).toBeUndefined();
    expect(selectMethod(['quit'], selection([]))).toBe('lifecycle');
    expect(selectMethod(['once'], selection([]))).toBe('event emitter');
    expect(selectMethod(['subscribe'], selection([]))).toBe('stream or connection state');
    expect(selectMethod(['tail'], selection([]), 'returns a stream or event source')).toBe('returns a stream or event source');
  });

  it('matches a name pattern at any depth, a dotted pattern against the whole path', () => {
    const chat = selection(['chat.**', 'get*']);
    expect(selectMethod(['chat', 'completions', 'create'], chat)).toBeUndefined();
    expect(selectMethod(['files', 'getContent'], chat)).toBeUndefined();
    expect(selectMethod(['files', 'list'], chat)).toBe('not in --include');
    expect(selectMethod(['beta', 'chat', 'create'], selection(['*.create']))).toBe('not in --include');
    expect(selectMethod(['chat', 'create'], selection(['*.create']))).toBeUndefined();
    expect(selectMethod(['x'], selection(['?']))).toBeUndefined();
  });

  it('brings back a default-excluded method only when named without wildcards, and lets --exclude win', () => {
    expect(selectMethod(['quit'], selection(['*']))).toBe('lifecycle');
    expect(selectMethod(['quit'], selection(['*', 'quit']))).toBeUndefined();
    expect(selectMethod(['quit'], selection(['quit'], ['q*']))).toBe('excluded by --exclude');
  });

  it('treats regular-expression characters in patterns literally', () => {
    expect(selectMethod(['a+b'], selection(['a+b']))).toBeUndefined();
    expect(selectMethod(['aab'], selection(['a+b']))).toBe('not in --include');
  });

  it.each(['', 'a..b', '.a'])('rejects the pattern %j', (pattern) => {
    expect(() => compilePatterns('--include', [pattern])).toThrow(CodegenError);
  });
});
