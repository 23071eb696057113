// End to end: `npm run demo` as a newcomer runs it, but piped (so in plain mode). Its /metrics is scraped
// while it runs; it must stop by itself after --duration and on SIGINT or SIGTERM, with exit code 0. It
// must stay true on a busy machine too: the open loop that skips what it could not start on time, and the
// loop monitor's stall count, are pinned below on fake time (the pool's own rule for a timer that fires
// late is pinned with the deadlines, in test/pipeline).
import { install, type Clock as FakeClock } from '@sinonjs/fake-timers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseOptions } from '../../examples/demo/cli-options.js';
import { LoopMonitor, STALL_MS } from '../../examples/demo/loop-monitor.js';
import { Traffic } from '../../examples/demo/traffic.js';
import { main, type CliIo } from '../../src/codegen/cli.js';
import { CLIENTS, DemoProcess, fetchText, pollUntil, REPO, sumOf } from './demo-process.js';
import { HANG_BOUND_MS } from '../helpers/hang-bound.js';

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
  }, HANG_BOUND_MS);

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
    at(/\] {2}calls +\d+ ok, \d+ failed.*, \d+ shed, \d+ late; via (run|proxy|wrapper) \d+/);
    at(/\] {2}loop +delay p50=[\d.]+ms p99=[\d.]+ms max=[\d.]+ms; \d+ stalls over 50 ms \([\d.]+s\)$/m);
    expect(output).not.toContain('\x1b[');
    at(/stopped after \d+\.\d s: \d+ calls ok, \d+ failed; pool, 4 upstreams and the metrics server closed\./);
    at(/event loop: delay p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms; \d+ stalls over 50 ms \([\d.]+ s in all\); \d+ calls skipped as late\.$/m);
    // Only the outage fails for long: the other circuits stay closed, however starved the machine running this.
    expect(output).not.toMatch(/(healthy|slow|flaky): circuit closed -> open/);
  }, HANG_BOUND_MS);
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
  }, HANG_BOUND_MS);
});

describe('examples/generated/multi-upstream-client.ts', () => {
  it('is what clientpool-codegen --check makes of examples/demo/upstream-client.ts', async () => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { cwd: REPO, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } };
    // The command in docs/demo.md; the wrapper imports the pool from the sources, as the demo does.
    const out = 'examples/generated/multi-upstream-client.ts';
    const argv = ['--source', 'examples/demo/upstream-client.ts', '--type', 'UpstreamClient', '--wrapper', 'MultiUpstreamClient', '--out', out, '--import', '../../src/index.js'];
    const code = await main([...argv, '--check'], io);
    // The verdict, not the wording of the summary after it (the CLI's to choose).
    expect({ code, stderr, verdict: stdout.split(/[:\n]/)[0] }).toEqual({ code: 0, stderr: '', verdict: `${out} is up to date` });
    // A bound on a hang, not on speed: the TypeScript program takes seconds on a quiet machine, 52 s at load ~25.
  }, HANG_BOUND_MS);
});

describe('the open loop on a stalled process', () => {
  let clock: FakeClock;
  afterEach(() => {
    clock.uninstall();
  });

  function traffic(): { traffic: Traffic; started: number[] } {
    clock = install({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const started: number[] = [];
    const paths = [{ name: 'p', call: (sequence: number) => (started.push(sequence), Promise.resolve()) }];
    return { traffic: new Traffic({ rate: 100, maxInFlight: 1_000, paths }), started };
  }

  it('skips and counts the calls that fell due during a stall, rather than starting them in one burst', async () => {
    const { traffic: load, started } = traffic();
    load.start();
    clock.tick(1_000);
    expect({ started: load.started, late: load.late }).toEqual({ started: 100, late: 0 });
    // Two seconds without a turn of the loop: the next tick comes once, 2 s late.
    clock.jump(2_000);
    expect({ started: load.started, late: load.late }).toEqual({ started: 100, late: 200 });
    clock.tick(1_000);
    // Back on schedule: the calls of the last second start, numbered by their time.
    expect({ started: load.started, late: load.late }).toEqual({ started: 200, late: 200 });
    expect(started.slice(99, 101)).toEqual([99, 300]);
    await load.stop();
  });

  it('starts the calls of a tick that is late by no more than its tolerance (50 ms)', async () => {
    const { traffic: load } = traffic();
    load.start();
    clock.tick(1_000);
    clock.jump(60); // due at 1 010, runs at 1 060: 50 ms late
    expect({ started: load.started, late: load.late }).toEqual({ started: 106, late: 0 });
    clock.jump(71); // due at 1 070, runs at 1 131: 61 ms late
    expect({ started: load.started, late: load.late }).toEqual({ started: 106, late: 7 });
    await load.stop();
  });
});

describe('the stalls of the loop monitor', () => {
  it('counts a turn over STALL_MS late as a stall, as long as from when the turn was due', () => {
    const loop = new LoopMonitor({ now: () => 0 });
    for (const now of [0, 10, 20]) loop.turn(now);
    loop.turn(20 + 10 + STALL_MS); // exactly STALL_MS late: not a stall
    expect({ stalls: loop.stalls, stalledMs: loop.stalledMs }).toEqual({ stalls: 0, stalledMs: 0 });
    loop.turn(80 + 10 + 500); // 500 ms late
    loop.turn(600);
    loop.turn(600 + 10 + 61); // 61 ms late
    expect({ stalls: loop.stalls, stalledMs: loop.stalledMs }).toEqual({ stalls: 2, stalledMs: 561 });
  });
});

describe('the demo\'s --redis flag', () => {
  it('is off by default, takes a port on 127.0.0.1 or a redis:// URL, and refuses anything else naming the flag', () => {
    expect(parseOptions([], {}).redisUrl).toBeUndefined();
    expect(parseOptions(['--redis', '6390'], {}).redisUrl).toBe('redis://127.0.0.1:6390');
    expect(parseOptions(['--redis', 'rediss://cache.internal:6380/2'], {}).redisUrl).toBe('rediss://cache.internal:6380/2');
    for (const bad of ['0', '70000', 'http://x', 'localhost', '']) {
      expect(() => parseOptions(['--redis', bad], {}), bad).toThrow(/--redis must be/);
    }
  });
});
