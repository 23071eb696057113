import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, vi } from 'vitest';
import { testMeterProvider, type TestMetricReader } from './metric-reader.js';

/**
 * A fresh SDK provider and in-memory reader for each test of the calling `describe`, handed to `use`;
 * shut down after the test, with every `vi` mock restored.
 */
export function useTestMeterProvider(use: (made: { readonly provider: MeterProvider; readonly reader: TestMetricReader }) => void): void {
  let provider: MeterProvider | undefined;
  beforeEach(() => {
    const made = testMeterProvider();
    provider = made.provider;
    use(made);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await provider?.shutdown();
  });
}
