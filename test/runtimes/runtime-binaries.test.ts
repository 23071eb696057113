import { describe, expect, it } from 'vitest';
import { missingReason, runtimeTestMode } from './runtime-binaries.js';

describe('runtime test mode', () => {
  it.each([
    [undefined, {}, 'run'],
    [undefined, { CI: 'true' }, 'run'],
    ['bun not found', {}, 'skip'],
    ['bun not found', { CI: '' }, 'skip'],
    ['bun not found', { CI: '0' }, 'skip'],
    ['bun not found', { CI: 'false' }, 'skip'],
    ['bun not found', { CI: 'true' }, 'fail'],
    ['bun not found', { CI: '1' }, 'fail'],
  ] as const)('missing: %s, env %j -> %s', (reason, env, mode) => {
    expect(runtimeTestMode(reason, env)).toBe(mode);
  });

  it('a runtime whose binary is not there is missing, with its path in the reason', () => {
    expect(missingReason({ name: 'bun', command: '/nonexistent/bun' })).toMatch(/^bun not found at \/nonexistent\/bun/);
  });

  it('a binary that does not start is missing, with why', () => {
    expect(missingReason({ name: 'deno', command: process.execPath })).toBeUndefined();
    expect(missingReason({ name: 'deno', command: '/bin/false' })).toMatch(/^\/bin\/false --version failed \(exit 1\)/);
  });
});
