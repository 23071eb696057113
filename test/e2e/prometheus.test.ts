// End to end with a real Prometheus: it scrapes the demo's /metrics every second, and a PromQL query over
// its HTTP API must find middleware_requests_total for every client. Without a prometheus binary the
// suite fails in CI (CI set) and is skipped locally, with a message. Every wait is for an event (ready,
// scraped); its deadline only stops a hang, minutes where a quiet machine needs seconds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, DemoProcess, fetchText, pollUntil } from './demo-process.js';
import { findBinary, startPrometheus, type PrometheusServer } from './prometheus-server.js';

const binary = findBinary('prometheus', 'PROMETHEUS');
const ci = process.env['CI'];
const isCI = ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
const MISSING = 'prometheus not found (set PROMETHEUS or install the Debian package prometheus)';
/** How long a wait may take before it counts as a hang. */
const HANG_MS = 180_000;

/** One series of an instant-vector query result. */
interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

if (binary === undefined) {
  if (isCI) {
    // In CI a missing binary is a failure, so that a broken image cannot pass by skipping the test.
    it('needs prometheus in CI', () => {
      throw new Error(`${MISSING}; CI must run the Prometheus e2e test`);
    });
  } else {
    console.warn(`skipping the Prometheus e2e test: ${MISSING}`);
    it.skip('a real Prometheus scraping the demo', () => {});
  }
} else {
  describeWithPrometheus(binary);
}

function describeWithPrometheus(binary: string): void {
  describe('a real Prometheus scraping the demo', () => {
    let demo: DemoProcess | undefined;
    let prometheus: PrometheusServer | undefined;
    let dir: string | undefined;
    let api = '';

    beforeAll(async () => {
      demo = new DemoProcess(['--duration', '900', '--port', '0']);
      const target = new URL(await demo.metricsUrl(HANG_MS)).host;

      dir = mkdtempSync(join(tmpdir(), 'clientpool-prometheus-'));
      prometheus = await startPrometheus({
        binary,
        dir,
        config: ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', 'scrape_configs:', '  - job_name: clientpool-demo', '    static_configs:', `      - targets: ['${target}']`, ''].join('\n'),
        hangMs: HANG_MS,
      });
      api = prometheus.api;
    }, 2 * HANG_MS);

    afterAll(async () => {
      // Even after a failure: nothing may outlive the test.
      await prometheus?.stop();
      await demo?.stop();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }, 20_000);

    it('scrapes middleware_requests_total per client (PromQL over the HTTP API)', async () => {
      const query = `${api}/api/v1/query?query=${encodeURIComponent('middleware_requests_total')}`;
      const series = await pollUntil(
        async () => {
          const text = await fetchText(query);
          if (text === undefined) return undefined;
          const body = JSON.parse(text) as { status: string; data: { resultType: string; result: VectorSample[] } };
          expect(body.status).toBe('success');
          const clients = new Set(body.data.result.map((sample) => sample.metric['client']));
          return CLIENTS.every((client) => clients.has(client)) ? body.data.result : undefined;
        },
        HANG_MS,
        () => `Prometheus has not scraped middleware_requests_total for every client (${CLIENTS.join(', ')}).\nprometheus:\n${prometheus?.log() ?? ''}\ndemo:\n${demo?.output ?? ''}`,
        500,
      );
      for (const sample of series) {
        expect(sample.metric).toMatchObject({ __name__: 'middleware_requests_total', job: 'clientpool-demo' });
        expect(['get_item', 'search', 'get_status']).toContain(sample.metric['method']);
        expect(Number(sample.value[1])).toBeGreaterThan(0);
      }
      // The target is up: Prometheus' own view of the scrape.
      const up = await fetchText(`${api}/api/v1/query?query=${encodeURIComponent('up{job="clientpool-demo"}')}`);
      expect((JSON.parse(up!) as { data: { result: VectorSample[] } }).data.result.map((sample) => sample.value[1])).toEqual(['1']);
    }, 2 * HANG_MS);
  });
}
