import { describe, expect, it } from 'vitest';
import { methodLabeler, OTHER_METHOD } from '../../src/jsonrpc/index.js';

const KNOWN = new Set(['eth_call', 'eth_blockNumber']);

async function warningsOf(run: () => void): Promise<string[]> {
  const warnings: string[] = [];
  const listen = (warning: Error): void => void warnings.push(warning.message);
  process.on('warning', listen);
  try {
    run();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listen);
  }
  return warnings;
}

describe('methodLabeler', () => {
  it('keeps known methods and labels every other one "other"', () => {
    const label = methodLabeler(KNOWN, undefined, 'methodLabel');
    expect(['eth_call', 'eth_blockNumber', 'acme_x', '', 'constructor'].map(label)).toEqual(['eth_call', 'eth_blockNumber', OTHER_METHOD, OTHER_METHOD, OTHER_METHOD]);
  });

  it('asks a custom labeller once per method', () => {
    let asked = 0;
    const label = methodLabeler(KNOWN, (m) => (asked++, m.toUpperCase()), 'methodLabel');
    expect([label('eth_call'), label('eth_call'), label('x')]).toEqual(['ETH_CALL', 'ETH_CALL', 'X']);
    expect(asked).toBe(2);
  });

  it('a labeller that throws or returns no label gives "other", reported once', async () => {
    const throwing = methodLabeler(
      KNOWN,
      () => {
        throw new Error('bad labeller');
      },
      'methodLabel',
    );
    const empty = methodLabeler(KNOWN, () => '', 'methodLabel');
    const warnings = await warningsOf(() => {
      expect([throwing('a'), throwing('b'), empty('a'), empty('b')]).toEqual([OTHER_METHOD, OTHER_METHOD, OTHER_METHOD, OTHER_METHOD]);
    });
    expect(warnings.filter((w) => w.includes('methodLabel'))).toHaveLength(2);
  });
});
