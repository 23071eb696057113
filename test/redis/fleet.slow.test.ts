// Four processes share two Redis limits (one without leases, one with), each passing a fixed number of
// calls. What must hold on any machine, busy or not: the tokens Redis handed out never exceed burst +
// rate·t, t measured around the whole run (a slow machine only makes t longer), and no process used a
// token that did not come from the shared bucket. The run's rate against the limit is printed, not checked:
// on a quiet machine it is within 1 % (README "Redis"); the exact arithmetic is checked on fake time in
// script.test.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWithEachIoredis, useRedisServer } from './describe-with-redis.js';
import type { FleetConfig, ToParent, ToWorker } from './fleet-worker.js';

const WORKER = fileURLToPath(new URL('./fleet-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROCESSES = 4;
const RATE = 200;
const BURST = 20;
/** Calls per process and limit: 10 s of the limit in all. */
const CALLS = (RATE * 10) / PROCESSES;

type Done = Extract<ToParent, { type: 'done' }>;

/** Start a worker and resolve once it is connected and ready; `done` resolves with its report. */
function startWorker(config: FleetConfig): Promise<{ readonly child: ChildProcess; readonly done: Promise<Done> }> {
  const child = fork(WORKER, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const done = new Promise<Done>((resolveDone, rejectDone) => {
      child.on('message', (message: ToParent) => {
        if (message.type === 'ready') resolve({ child, done });
        else resolveDone(message);
      });
      // A message to a worker on its way out fails (EPIPE) as an 'error' event: a failure of the run, not an uncaught exception.
      child.on('error', (cause) => {
        const error = new Error(`fleet worker failed: ${cause.message}`, { cause });
        reject(error);
        rejectDone(error);
      });
      child.on('exit', (code) => {
        const error = new Error(`fleet worker exited with code ${code}`);
        reject(error);
        rejectDone(error);
      });
    });
  });
}

describeWithEachIoredis(`a fleet of ${PROCESSES} processes sharing a limit`, (ioredis) => {
  const fixture = useRedisServer(ioredis);

  // The timeout only stops a hang: a quiet machine needs about 12 s.
  it(`${PROCESSES} × ${CALLS} calls at ${RATE}/s, burst ${BURST}: Redis never hands out more than burst + rate·t, with and without leases`, { timeout: 300_000 }, async () => {
    const run = `${process.pid}-${ioredis.module}`;
    const config: FleetConfig = {
      port: fixture.server.port,
      processes: PROCESSES,
      ioredis: ioredis.module,
      limits: [
        { key: `fleet:${run}:plain`, rate: RATE, burst: BURST, lease: 1 },
        { key: `fleet:${run}:leased`, rate: RATE, burst: BURST, lease: 5 },
      ],
      loops: 2,
      calls: CALLS,
      // The workers and Redis share this machine with whatever else runs on it; a generous timeout keeps
      // this test about sharing through Redis. Fallback has its own tests (integration.test.ts), and a
      // fallback here fails the test below rather than passing unnoticed.
      timeout: 5_000,
    };
    const workers = await Promise.all(Array.from({ length: PROCESSES }, () => startWorker(config)));
    try {
      const start = performance.now();
      const go: ToWorker = { type: 'start' };
      for (const { child } of workers) child.send(go);
      const reports = await Promise.all(workers.map((w) => w.done));
      const seconds = (performance.now() - start) / 1_000;

      const allowed = BURST + RATE * seconds;
      const taken = config.limits.map((_, i) => reports.reduce((sum, r) => sum + r.stats[i]!.redisTokens, 0));
      console.info(
        `fleet (${ioredis.label}): ${PROCESSES} processes × ${CALLS} calls, ${RATE}/s, burst ${BURST}, in ${seconds.toFixed(2)} s: ` +
          config.limits.map((l, i) => `lease ${l.lease}: ${taken[i]} tokens from Redis, ${((taken[i]! / allowed) * 100).toFixed(1)} % of burst + rate·t`).join('; '),
      );
      config.limits.forEach((_, i) => {
        expect(taken[i]).toBeLessThanOrEqual(allowed);
        // Every call passed, on a token taken from the shared bucket first.
        expect(reports.map((r) => r.passed[i])).toEqual(reports.map(() => CALLS));
        expect(taken[i]).toBeGreaterThanOrEqual(PROCESSES * CALLS);
      });
      for (const report of reports) {
        expect(report.unhandled).toEqual([]);
        for (const stats of report.stats) expect(stats).toMatchObject({ fallbacks: 0, failures: 0, localTokens: 0 });
      }
    } finally {
      for (const { child } of workers) if (child.exitCode === null) child.kill();
    }
  });
});
