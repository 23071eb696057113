// The whole library at work against real HTTP upstreams on 127.0.0.1: four servers (healthy, slow, flaky,
// and one killed and restarted mid-run), a ClientPool of undici clients with every middleware (Prometheus,
// OpenTelemetry, a dashboard recorder), per-client quotas and a pool-wide limit, retries and hedging.
// Steady open-loop traffic goes through pool.run(), pool.proxy() and a generated wrapper class, and a live
// dashboard shows each circuit open when its upstream dies and close when it comes back.
//
// Run: npm run demo                  (30 s; Ctrl-C stops it earlier)
//      npm run demo -- --help        (flags: --duration, --port, --rate, --seed, --plain, --redis)
//      npm run demo -- --redis 6379  (the healthy client's quota shared through Redis, with its metrics)
// Each concept is in its own file under examples/demo/.
import { Registry } from 'prom-client';
import { MultiUpstreamClient } from './generated/multi-upstream-client.js';
import { parseOptions, USAGE, type DemoOptions } from './demo/cli-options.js';
import { buildPool } from './demo/client-pool.js';
import { Dashboard, type Frame } from './demo/dashboard.js';
import { LoopMonitor, STALL_MS } from './demo/loop-monitor.js';
import { serveMetrics } from './demo/metrics-server.js';
import { redisAddress, sharedLimit, type SharedLimit } from './demo/shared-limit.js';
import { OPEN_ENDED_CYCLE_MS, OutageSchedule, outageWindow } from './demo/outage-schedule.js';
import { AttemptRecorder } from './demo/recorder.js';
import { startTracing } from './demo/span-counter.js';
import { stopSignal } from './demo/stop-signal.js';
import { Traffic } from './demo/traffic.js';
import { OUTAGE, SPECS, startUpstreams } from './demo/upstreams.js';

/** A shutdown that takes longer than this (a stuck connection, a bug) is cut short, with exit code 1. */
const SHUTDOWN_WATCHDOG_MS = 10_000;
const QUERIES = ['an', 'bo', 'e', 'in', 'ro', 'v'];

async function main(): Promise<number> {
  let options: DemoOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (options.isHelp) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const startedAt = performance.now();
  // Is this process keeping up? Its event-loop delay and stalls are shown beside the upstreams' latencies.
  const loop = new LoopMonitor();
  loop.start();
  const stop = stopSignal(options.durationMs, (signal) => {
    process.stderr.write(`\n${signal} again: exiting without waiting for the shutdown\n`);
    process.exit(130);
  });

  // The upstreams, and their observers.
  const servers = await startUpstreams(options.seed);
  const outage = servers.find((server) => server.name === OUTAGE)!;
  const registry = new Registry();
  const tracing = startTracing();
  const recorder = new AttemptRecorder();
  // Events before the dashboard exists (none are expected) are printed as they come.
  let onEvent = log;
  let shared: SharedLimit | undefined;
  if (options.redisUrl !== undefined) {
    try {
      shared = await sharedLimit(options.redisUrl, SPECS, registry, (message) => onEvent(message));
    } catch (error) {
      process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
      await Promise.all([...servers.map((server) => server.kill()), tracing.shutdown()]);
      stop.dispose();
      loop.stop();
      return 1;
    }
  }
  const clientLimits = shared === undefined ? undefined : { [shared.client]: shared.bucket };
  const { pool, limit } = buildPool(SPECS, servers.map((server) => server.origin), { registry, tracerProvider: tracing.provider, recorder, seed: options.seed, ...(clientLimits === undefined ? {} : { clientLimits }) });
  const metrics = await serveMetrics(registry, options.port);

  // Three ways to call through the pool, used in turn.
  const proxy = pool.proxy({ methods: { search: { timeout: 1_500 } } });
  const wrapper = new MultiUpstreamClient(pool);
  const traffic = new Traffic({
    rate: options.rate,
    maxInFlight: 256,
    // A tick later than a stall starts none of what fell due meanwhile.
    maxLateMs: STALL_MS,
    paths: [
      // pool.run() hands the attempt's signal to the HTTP request: a timeout or a lost hedge frees the connection.
      { name: 'run', call: (i) => pool.run((client, call) => client.getItem(i % 1_000, { signal: call.signal }), { method: 'get_item' }) },
      { name: 'proxy', call: (i) => proxy.search(QUERIES[i % QUERIES.length]!) },
      { name: 'wrapper', call: (i) => (i % 2 === 0 ? wrapper.getItem(i % 1_000) : wrapper.getStatus()) },
    ],
  });

  const cycleMs = Number.isFinite(options.durationMs) ? options.durationMs : OPEN_ENDED_CYCLE_MS;
  const schedule = new OutageSchedule(outage, cycleMs, (message) => dashboard.event(message));
  const collect = (): Frame => {
    const members = pool.members();
    const snapshot = traffic.window.stats();
    return {
      elapsedMs: performance.now() - startedAt,
      durationMs: options.durationMs,
      rate: options.rate,
      metricsUrl: metrics.url,
      clients: members.map((member) => {
        const index = SPECS.findIndex((spec) => spec.name === member.name);
        const server = servers[index]!;
        const spec = SPECS[index]!;
        const nextChange = server === outage ? schedule.nextChangeAt - startedAt : Number.NaN;
        return {
          name: member.name,
          state: member.state,
          inFlight: member.inFlight,
          stats: recorder.windowOf(member.name).stats(),
          tokens: member.tokens,
          burst: spec.quota.burst,
          port: server.port,
          isUp: server.isUp,
          note: Number.isNaN(nextChange) ? spec.behaviour.summary : `${spec.behaviour.summary}; ${server.isUp ? 'dies' : 'back'} at t=${(nextChange / 1_000).toFixed(1)}s`,
        };
      }),
      pool: {
        ready: members.filter((member) => member.state.kind !== 'open').length,
        total: members.length,
        inFlight: traffic.inFlight,
        stats: snapshot,
        tokens: limit.available,
        burst: limit.burst,
        succeeded: traffic.succeeded,
        failed: traffic.failed,
        shed: traffic.shed,
        late: traffic.late,
        errors: traffic.errors,
        byPath: traffic.byPath,
        attempts: recorder.kinds,
        budget: pool.retryBudget,
        spans: tracing.counter,
      },
      loop: { delay: loop.window(), stalls: loop.stalls, stalledMs: loop.stalledMs, stallMs: STALL_MS },
    };
  };
  const dashboard = new Dashboard(process.stdout, collect, { isPlain: options.isPlain, startedAt, env: process.env });
  onEvent = (message) => dashboard.event(message);
  const onResize = (): void => dashboard.resized();
  process.stdout.on('resize', onResize);
  pool.onStateChange(({ client, from, to }) => dashboard.event(`${client}: circuit ${from.kind} -> ${to.kind}`));

  const { downAt, upAt } = outageWindow(cycleMs);
  const every = Number.isFinite(options.durationMs) ? '' : ` (and again every ${OPEN_ENDED_CYCLE_MS / 1_000} s)`;
  log(`clientpool demo: ${options.rate} calls/s for ${Number.isFinite(options.durationMs) ? `${options.durationMs / 1_000} s` : 'as long as you like'}, seed ${options.seed}`);
  for (const [index, server] of servers.entries()) log(`  upstream ${server.name.padEnd(8)} ${server.origin}  ${SPECS[index]!.behaviour.summary}${server === outage ? ', killed and restarted' : ''}`);
  log(`  ${OUTAGE} is down from t=${(downAt / 1_000).toFixed(1)}s to t=${(upAt / 1_000).toFixed(1)}s${every}`);
  if (shared !== undefined) log(`  ${shared.client}'s quota is shared through Redis at ${redisAddress(options.redisUrl!)} (key ${shared.bucket.key})`);
  if (metrics.fellBackFrom !== undefined) log(`  port ${metrics.fellBackFrom} is taken; serving metrics on ${metrics.port} instead`);
  log(`  metrics: ${metrics.url}`);
  log('  stop: Ctrl-C (or SIGTERM)');
  log('');

  schedule.start(startedAt, !Number.isFinite(options.durationMs));
  traffic.start();
  dashboard.start();

  const reason = await stop.stopped;
  dashboard.event(reason === 'duration' ? 'time is up: shutting down' : `${reason}: shutting down (Ctrl-C again to exit at once)`);

  // Shut down: no new calls; once those in flight have settled, close the pool (which closes each undici
  // dispatcher through its client's close hook), then the servers.
  const watchdog = setTimeout(() => {
    process.stderr.write(`demo: shutdown took longer than ${SHUTDOWN_WATCHDOG_MS} ms; exiting anyway\n`);
    process.exit(1);
  }, SHUTDOWN_WATCHDOG_MS).unref();
  schedule.stop();
  await traffic.stop();
  dashboard.stop(); // the last frame, with every call settled and the clients still in the pool
  process.stdout.off('resize', onResize);
  await pool.close();
  await Promise.all([metrics.close(), shared?.close(), ...servers.map((server) => server.kill()), tracing.shutdown()]);
  stop.dispose();
  clearTimeout(watchdog);
  loop.stop();

  const elapsed = ((performance.now() - startedAt) / 1_000).toFixed(1);
  const why = reason === 'duration' ? `after ${elapsed} s` : `on ${reason} after ${elapsed} s`;
  const delay = loop.total();
  const msText = (value: number): string => (Number.isNaN(value) ? '-' : `${value.toFixed(1)} ms`);
  log(`\nstopped ${why}: ${traffic.succeeded} calls ok, ${traffic.failed} failed; pool, ${servers.length} upstreams and the metrics server closed.`);
  log(
    `event loop: delay p50 ${msText(delay.p50)}, p99 ${msText(delay.p99)}, max ${msText(delay.max)}; ${loop.stalls} stalls over ${STALL_MS} ms ` +
      `(${(loop.stalledMs / 1_000).toFixed(1)} s in all); ${traffic.late} calls skipped as late.`,
  );
  return 0;
}

process.exitCode = await main();
