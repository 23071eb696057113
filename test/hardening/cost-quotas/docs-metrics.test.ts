// Attack: the new metrics are documented where a user looks for metrics.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string): string => readFileSync(path, 'utf8');

describe('the limit headroom metrics are in the metrics references', () => {
  it('docs/prometheus.md lists <prefix>_limit_headroom with its labels', () => {
    expect(read('docs/prometheus.md')).toMatch(/`<prefix>_limit_headroom`\s*\|\s*gauge\s*\|\s*`client`, `limit`/);
  });

  it('docs/opentelemetry.md lists clientpool.limit.headroom', () => {
    expect(read('docs/opentelemetry.md')).toContain('clientpool.limit.headroom');
  });

  it('docs/cost-quotas.md "Seeing it" names the metrics', () => {
    const seeing = read('docs/cost-quotas.md').split('## Seeing it')[1] ?? '';
    expect(seeing).toContain('limit_headroom');
  });
});

describe('docs/ai-sdk.md agrees with itself about cost quotas', () => {
  it('does not say cost quotas are "not built yet" while documenting them', () => {
    const text = read('docs/ai-sdk.md');
    expect(text).toContain('### Token quotas per key');
    expect(text).not.toMatch(/Cost quotas that consume this usage[^.]*\*\*not built yet\*\*/);
  });
});
