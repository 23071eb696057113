import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWithRedis, useRedisServer } from './describe-with-redis.js';
import type { FleetConfig, ToParent, ToWorker } from './fleet-worker.js';

const WORKER = fileURLToPath(new URL('./fleet-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROCESSES = 4;
const RATE = 200;
const BURST = 20;
const SECONDS = 10;

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
      child.on('exit', (code) => {
        const error = new Error(`fleet worker exited with code ${code}`);
        reject(error);
        rejectDone(error);
      });
    });
  });
}

describeWithRedis('a fleet of 4 processes sharing a limit', () => {
  const fixture = useRedisServer();

  it(`passes ${RATE}/s · ${SECONDS} s + burst ${BURST} within ±2 %, with and without leases`, { timeout: 40_000 }, async () => {
    const run = `${process.pid}-${Date.now()}`;
    const config: FleetConfig = {
      port: fixture.server.port,
      processes: PROCESSES,
      limits: [
        { key: `fleet:${run}:plain`, rate: RATE, burst: BURST, lease: 1 },
        { key: `fleet:${run}:leased`, rate: RATE, burst: BURST, lease: 5 },
      ],
      loops: 2,
      durationMs: SECONDS * 1_000,
      // The workers and Redis share this machine with whatever else runs on it; a generous timeout keeps
      // this test about sharing through Redis. Fallback has its own tests (integration.test.ts), and a
      // fallback here fails the test below rather than passing unnoticed.
      timeout: 500,
    };
    const workers = await Promise.all(Array.from({ length: PROCESSES }, () => startWorker(config)));
    try {
      const start: ToWorker = { type: 'start', startAt: Date.now() + 200 };
      for (const { child } of workers) child.send(start);
      const reports = await Promise.all(workers.map((w) => w.done));

      const expected = BURST + RATE * SECONDS;
      const totals = config.limits.map((_, i) => reports.reduce((sum, r) => sum + r.passed[i]!, 0));
      console.log(
        `fleet: ${PROCESSES} processes, ${RATE}/s, burst ${BURST}, ${SECONDS} s: expected ${expected}; ` +
          config.limits.map((l, i) => `lease ${l.lease}: ${totals[i]} (${(((totals[i]! - expected) / expected) * 100).toFixed(2)} %, per process ${reports.map((r) => r.passed[i]).join('/')}, fallbacks ${reports.map((r) => r.stats[i]!.fallbacks).join('/')})`).join('; '),
      );
      for (const total of totals) {
        expect(total).toBeGreaterThanOrEqual(expected * 0.98);
        expect(total).toBeLessThanOrEqual(expected * 1.02);
      }
      for (const report of reports) {
        expect(report.unhandled).toEqual([]);
        for (const stats of report.stats) expect(stats).toMatchObject({ fallbacks: 0, failures: 0, localTokens: 0 });
        // Every process got a real share: none starved.
        for (const passed of report.passed) expect(passed).toBeGreaterThan(expected / PROCESSES / 2);
      }
      // Redis's own count: no process used a token that was not taken from the shared bucket first.
      config.limits.forEach((_, i) => {
        const taken = reports.reduce((sum, r) => sum + r.stats[i]!.redisTokens, 0);
        expect(taken).toBeGreaterThanOrEqual(totals[i]!);
        expect(taken).toBeLessThanOrEqual(expected * 1.02);
      });
    } finally {
      for (const { child } of workers) if (child.exitCode === null) child.kill();
    }
  });
});
