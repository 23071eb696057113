/**
 * Chaos with real processes: four upstream HTTP servers (test/hardening/fixtures/upstream.mjs)
 * as child processes on 127.0.0.1, an undici Pool per upstream in a ClientPool with retry and a
 * breaker. Mid-run one upstream is killed with SIGKILL and later restarted on the same port.
 *
 * Every call had three healthy alternatives, so every call must succeed; the dead upstream's breaker
 * opens and, once it is back, closes; and `pool.close()` closes the undici pools through the close
 * hooks, leaving no socket and no timer. Loopback only, bounded: about 3 000 calls, a few seconds on a
 * quiet machine. Every phase ends at a count of calls or an event, never at a time; the waits' deadlines
 * and the calls' timeout only stop a hang, and are far above what a busy machine needs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { ClientPool, isClientPoolError, type StateChange } from '../../src/index.js';

const UPSTREAM = fileURLToPath(new URL('fixtures/upstream.mjs', import.meta.url));
const CONCURRENCY = 16;
/** Calls in each phase: healthy, after the kill, after the restart. */
const PHASE_CALLS = 1_000;
/** How long a wait may take before it counts as a hang: minutes, where a quiet machine needs a second. */
const HANG_MS = 120_000;

interface Upstream {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
}

const children = new Set<ChildProcess>();

/** Start an upstream and wait for the port it prints. */
async function startUpstream(name: string, port = 0): Promise<Upstream> {
  const child = spawn(process.execPath, [UPSTREAM, '--name', name, '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
  try {
    const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => [undefined])])) as [string | undefined];
    if (line === undefined) throw new Error(`upstream ${name} exited before listening`);
    const started = JSON.parse(line) as { name: string; port: number };
    return { name, port: started.port, child };
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}

/** Wait until `condition` holds, polling; fail after `ms` (a hang). */
async function until(condition: () => boolean, what: string, ms = HANG_MS): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const countOf = (type: string): number => process.getActiveResourcesInfo().filter((t) => t === type).length;

describe('chaos with real processes', () => {
  afterAll(async () => {
    // Our own children only, by their handle.
    for (const child of children) child.kill('SIGKILL');
    await Promise.all([...children].map((child) => once(child, 'exit')));
  });

  it('an upstream killed with SIGKILL mid-run and restarted on its port: every call succeeds, its breaker opens then closes, close() leaves nothing behind', async () => {
    const socketsBefore = countOf('TCPSocketWrap');
    const timersBefore = countOf('Timeout');
    const upstreams = await Promise.all(['a', 'b', 'c', 'd'].map((name) => startUpstream(name)));
    const pools = new Map(upstreams.map((u) => [u.name, new Pool(`http://127.0.0.1:${u.port}`, { connections: 4 })]));

    const pool = new ClientPool<Pool>({
      breaker: { maxFailures: 3, cooldown: 300 },
      // A budget that allows a retry per call: every call has a healthy alternative to go to.
      retry: { attempts: 3, backoff: { initial: 0, max: 10 } },
      retryBudget: { ratio: 1, reserve: 100 },
      // Only for a hang: a killed upstream refuses or resets at once, and a healthy one answering slowly
      // on a busy machine must not count as failing (the test expects no other breaker to move).
      timeout: 60_000,
    });
    for (const [name, client] of pools) pool.add(client, { name, close: (c) => c.close() });
    const changes: StateChange[] = [];
    pool.onStateChange((change) => changes.push(change));

    const answeredBy = new Map<string, number>();
    const failures: string[] = [];
    let done = 0;
    let isStopping = false;
    const worker = async (): Promise<void> => {
      while (!isStopping) {
        try {
          const answer = await pool.run(
            async (client, call) => {
              const { statusCode, body } = await client.request({ path: '/', method: 'GET', signal: call.signal });
              const text = await body.text();
              if (statusCode !== 200) throw new Error(`status ${statusCode}`);
              return text;
            },
            { method: 'get' },
          );
          answeredBy.set(answer, (answeredBy.get(answer) ?? 0) + 1);
        } catch (error) {
          failures.push(isClientPoolError(error) ? `${error.code}: ${error.message}` : String(error));
        }
        done++;
      }
    };
    const workers = Array.from({ length: CONCURRENCY }, worker);

    // Phase 1: all healthy.
    await until(() => done >= PHASE_CALLS, 'the healthy phase');
    const b = upstreams[1]!;
    expect(answeredBy.get('b')).toBeGreaterThan(0);

    // Phase 2: b dies mid-run, with calls in flight to it.
    const killedAt = done;
    b.child.kill('SIGKILL');
    await once(b.child, 'exit');
    await until(() => changes.some((c) => c.client === 'b' && c.to.kind === 'open'), "b's breaker to open");
    await until(() => done >= killedAt + PHASE_CALLS, 'the phase without b');
    const answeredByBBeforeRestart = answeredBy.get('b') ?? 0;

    // Phase 3: b comes back on the same port; after its cooldown a probe succeeds and closes the circuit.
    const restarted = await startUpstream('b', b.port);
    expect(restarted.port).toBe(b.port);
    const restartedAt = changes.length;
    await until(() => changes.slice(restartedAt).some((c) => c.client === 'b' && c.to.kind === 'closed'), "b's breaker to close");
    const closedAt = done;
    await until(() => done >= closedAt + PHASE_CALLS, 'the phase after the restart');

    isStopping = true;
    await Promise.all(workers);

    // Every call succeeded: each had a healthy alternative.
    expect(failures).toEqual([]);
    expect(done).toBe([...answeredBy.values()].reduce((a, n) => a + n, 0));
    // b took calls again after it came back.
    expect(answeredBy.get('b')!).toBeGreaterThan(answeredByBBeforeRestart);
    // Only b changed state: it opened (perhaps reopened after failed probes), and its last move was to closed.
    expect(changes.filter((c) => c.client !== 'b')).toEqual([]);
    const bMoves = changes.map((c) => `${c.from.kind}->${c.to.kind}`);
    expect(bMoves[0]).toBe('closed->open');
    expect(bMoves.at(-1)).toBe('half-open->closed');
    const members = pool.members();
    expect(members.map((m) => [m.name, m.state.kind, m.inFlight])).toEqual([
      ['a', 'closed', 0],
      ['b', 'closed', 0],
      ['c', 'closed', 0],
      ['d', 'closed', 0],
    ]);
    expect(members.find((m) => m.name === 'b')!.failures).toBeGreaterThanOrEqual(3);
    expect(members.filter((m) => m.name !== 'b').every((m) => m.failures === 0)).toBe(true);

    // close() drains, runs the close hooks (undici Pool.close) and leaves no socket or timer.
    await pool.close();
    for (const client of pools.values()) expect(client.closed).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(countOf('TCPSocketWrap')).toBe(socketsBefore);
    expect(countOf('Timeout')).toBeLessThanOrEqual(timersBefore);
    console.info(`chaos: ${done} calls, answered ${JSON.stringify(Object.fromEntries(answeredBy))}, b: ${bMoves.join(', ')}`);
  }, 600_000);
});
