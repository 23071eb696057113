// End to end: `npm run demo` as a newcomer runs it, but piped (so in plain mode). Its /metrics is scraped
// while it runs; it must stop by itself after --duration and on SIGINT or SIGTERM, with exit code 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../src/codegen/cli.js';
import { CLIENTS, DemoProcess, fetchText, pollUntil, REPO, sumOf } from './demo-process.js';

describe('npm run demo -- --duration 12 --port 0, piped', () => {
  let demo: DemoProcess;
  beforeAll(() => {
    demo = new DemoProcess(['--duration', '12', '--port', '0']);
  });
  afterAll(() => demo.stop());

  it('serves the original metric names per client, and the outage circuit opens and closes again', async () => {
    const url = await demo.metricsUrl();
    // The outage upstream is down from t=3.6 s to t=7.2 s; its circuit closes at the first probe after.
    const text = await pollUntil(
      async () => {
        if (!demo.isRunning) throw new Error(`the demo exited before the outage circuit closed again:\n${demo.output}`);
        const scraped = await fetchText(url);
        if (scraped === undefined) return undefined;
        return (sumOf(scraped, 'middleware_circuit_transitions_total', { client: 'outage', to: 'closed' }) ?? 0) > 0 ? scraped : undefined;
      },
      20_000,
      () => `the outage circuit did not close again in time:\n${demo.output}`,
      250,
    );

    expect(text).toMatch(/^# TYPE middleware_requests_total counter$/m);
    expect(text).toMatch(/^# TYPE middleware_request_duration_seconds histogram$/m);
    expect(text).toMatch(/^# TYPE middleware_request_errors_total counter$/m);
    for (const client of CLIENTS) {
      // Every method of every path (pool.run, the proxy, the generated wrapper) under its own label.
      for (const method of ['get_item', 'search', 'get_status']) {
        expect(sumOf(text, 'middleware_requests_total', { client, method }), `${client} ${method}`).toBeGreaterThan(0);
      }
      expect(sumOf(text, 'middleware_request_duration_seconds_count', { client })).toBeGreaterThan(0);
      expect(sumOf(text, 'middleware_request_duration_seconds_bucket', { client, le: '+Inf' })).toBe(sumOf(text, 'middleware_request_duration_seconds_count', { client }));
      expect(sumOf(text, 'middleware_request_errors_total', { client }), client).toBeDefined();
    }
    expect(sumOf(text, 'middleware_request_errors_total', { client: 'flaky' })).toBeGreaterThan(0);
    expect(sumOf(text, 'middleware_request_errors_total', { client: 'outage' })).toBeGreaterThan(0);
    expect(sumOf(text, 'middleware_circuit_transitions_total', { client: 'outage', from: 'closed', to: 'open' })).toBeGreaterThanOrEqual(1);
    expect(sumOf(text, 'middleware_circuit_transitions_total', { client: 'outage', from: 'half-open', to: 'closed' })).toBeGreaterThanOrEqual(1);
  }, 40_000);

  it('exits 0 by itself after --duration, having told the outage and its circuit in plain lines', async () => {
    expect(await demo.exited).toEqual({ code: 0, signal: null });
    const output = demo.output;
    const at = (pattern: RegExp): number => {
      const index = output.search(pattern);
      expect(index, `${String(pattern)} in:\n${output}`).toBeGreaterThanOrEqual(0);
      return index;
    };
    // In order: the upstream dies, its circuit opens, it comes back, its circuit closes.
    const killed = at(/\] {2}outage: upstream killed \(port \d+ closed/);
    const opened = at(/\] {2}outage: circuit closed -> open/);
    const restarted = at(/\] {2}outage: upstream restarted on port \d+/);
    const closed = output.indexOf('outage: circuit half-open -> closed', restarted);
    expect(killed).toBeLessThan(opened);
    expect(opened).toBeLessThan(restarted);
    expect(closed, output).toBeGreaterThan(restarted);
    // Periodic plain lines: one per client, one for the pool; no ANSI control sequences when piped.
    for (const client of CLIENTS) at(new RegExp(`\\[t=\\s*\\d+\\.\\ds\\] {2}${client} +circuit=(closed|open|half-open) +in-flight=\\d+ req/s=`));
    at(/\] {2}pool +ready=\d\/4 in-flight=\d+ calls\/s=/);
    expect(output).not.toContain('\x1b[');
    at(/stopped after 1\d\.\d s: \d+ calls ok, \d+ failed; pool, 4 upstreams and the metrics server closed\./);
  }, 30_000);
});

describe('stopping the demo with a signal', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s closes the pool and the servers, and exits 0', async (signal) => {
    const demo = new DemoProcess(['--duration', '120', '--port', '0']);
    try {
      const url = await demo.metricsUrl();
      await pollUntil(
        async () => ((sumOf((await fetchText(url)) ?? '', 'middleware_requests_total') ?? 0) > 0 ? true : undefined),
        15_000,
        () => `no traffic in the metrics:\n${demo.output}`,
      );
      // To the process group, as Ctrl-C in a terminal: the tsx CLI and the demo both get it.
      demo.signal(signal);
      expect(await demo.exited).toEqual({ code: 0, signal: null });
      expect(demo.output).toMatch(new RegExp(`${signal}: shutting down`));
      expect(demo.output).toMatch(new RegExp(`stopped on ${signal} after \\d+\\.\\d s: \\d+ calls ok`));
      expect(await fetchText(url)).toBeUndefined();
    } finally {
      await demo.stop();
    }
  }, 40_000);
});

describe('examples/generated/multi-upstream-client.ts', () => {
  it('is what clientpool-codegen --check makes of examples/demo/upstream-client.ts', () => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { cwd: REPO, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } };
    // The command in examples/README.md; the wrapper imports the pool from the sources, as the demo does.
    const out = 'examples/generated/multi-upstream-client.ts';
    const argv = ['--source', 'examples/demo/upstream-client.ts', '--type', 'UpstreamClient', '--wrapper', 'MultiUpstreamClient', '--out', out, '--import', '../../src/index.js'];
    const code = main([...argv, '--check'], io);
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: `${out} is up to date\n`, stderr: '' });
  }, 30_000);
});
