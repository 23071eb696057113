/**
 * The fleet figure of issue 17: how many calls a fleet of processes sends to a dead upstream, each process
 * learning alone and sharing circuits through Redis (`RedisFleet`).
 *
 * `node --import tsx bench/fleet.ts [--quick] [--write]` starts a throwaway redis-server on a free port, 3
 * `node:http` upstreams on 127.0.0.1 of which one is dead (answers 503 at once, or takes the request and
 * never answers), and for each scenario and way of sharing 4 worker processes (bench/fleet-worker.ts), each
 * a ClientPool over the 3 upstreams sending calls open-loop at a fixed rate. The upstreams count what
 * reaches them. `--write` puts the section in bench/README.md (`--quick`: 3 s of calls instead of 10);
 * `runFleetBench()` returns it for other scripts and the smoke test. About 2 minutes on 2 cores.
 * The workers run the sources through tsx, also under bench/use-dist.mjs: counts, not speed, are measured.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startRedisServer } from '../test/redis/redis-server.js';
// Types only: the worker's module is a process of its own (importing it would run it).
import type { FleetStart, FleetToParent, FleetUpstream, FleetWorkerConfig, FleetWorkerReport } from './fleet-worker.js';
import { machine } from './report.js';
import { writeSection } from './simulation/report.js';

/** The heading of the generated section in bench/README.md. */
export const FLEET_HEADING = '## Fleet';

const WORKER = fileURLToPath(new URL('./fleet-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEAD = 'b2';

/** Request header naming the worker that sent it, for the upstreams' counts. */
export const WORKER_HEADER = 'x-fleet-worker';
/** Request header, `1` when the request is a half-open probe (its client's circuit read half-open when it was sent). */
export const PROBE_HEADER = 'x-fleet-probe';

/** How the dead upstream fails. */
export type DeadKind = '503' | 'hang';

export interface FleetScenario {
  readonly id: string;
  readonly dead: DeadKind;
  /** Milliseconds between the starts of consecutive processes (0: all at once). */
  readonly staggerMs: number;
  readonly title: string;
}

export const FLEET_SCENARIOS: readonly FleetScenario[] = [
  { id: '503', dead: '503', staggerMs: 0, title: `${DEAD} answers 503 at once` },
  { id: 'hang', dead: 'hang', staggerMs: 0, title: `${DEAD} takes every request and never answers` },
  { id: '503-staggered', dead: '503', staggerMs: 1_000, title: `${DEAD} answers 503, the processes start 1 s apart` },
];

/** A way of sharing: none, or a `RedisFleet` with default settings but the quorum. */
export interface FleetSharing {
  readonly id: string;
  readonly label: string;
  readonly quorum: number | undefined;
}

export const FLEET_SHARINGS: readonly FleetSharing[] = [
  { id: 'alone', label: 'no sharing', quorum: undefined },
  { id: 'fleet', label: 'RedisFleet, defaults', quorum: 1 },
  { id: 'quorum-2', label: 'RedisFleet, quorum 2', quorum: 2 },
];

export interface FleetBenchOptions {
  /** Worker processes. @default 4 */
  readonly processes?: number;
  /** Calls per second of each process. @default 50 */
  readonly rate?: number;
  /** Calls of each process. @default 500 (10 s at 50/s) */
  readonly calls?: number;
  /** The breaker's consecutive failures. @default 5 */
  readonly maxFailures?: number;
  /** The breaker's cooldown in ms. @default 2_000 */
  readonly cooldown?: number;
  /** The pool's per-call timeout in ms (what ends a call to the hanging upstream). @default 500 */
  readonly timeout?: number;
  /** Scenarios to run, by id. @default every one */
  readonly scenarios?: readonly string[];
  /** Ways of sharing to run, by id. @default every one */
  readonly sharings?: readonly string[];
  /** The command shown in the section. */
  readonly command?: string;
  /** Write the section into bench/README.md (replacing the last one). @default false */
  readonly write?: boolean;
  readonly log?: (line: string) => void;
}

/** One run: a scenario and a way of sharing, the fleet's processes summed. */
export interface FleetRow {
  readonly scenario: string;
  readonly sharing: string;
  readonly label: string;
  /** Calls the callers made, every process. */
  readonly calls: number;
  /** Requests that reached the dead upstream. */
  readonly dead: number;
  /** Of them, in the first second of the process that sent it. */
  readonly deadFirstSecond: number;
  /** Of them, by process, those that were not probes: the failures each process paid before its circuit opened (closed circuits only send calls). */
  readonly closedByProcess: readonly number[];
  /** Of them, after the first opening of its circuit in any process. */
  readonly deadAfterFirstOpening: number;
  /** Of them, sent as half-open probes. */
  readonly probes: number;
  /** Calls that failed at the callers. */
  readonly failed: number;
  /** Milliseconds from the first process's start to the first opening in any process (undefined: it never opened). */
  readonly firstOpeningMs: number | undefined;
  /** Milliseconds from the first process's start to the last process's first opening (undefined: one never opened). */
  readonly lastFirstOpeningMs: number | undefined;
  /** Openings applied from another process's report (0 without a fleet). */
  readonly appliedOpenings: number;
  /** Times a process fell back to its local view (Redis failed or was slow): a fleet run should have none. */
  readonly fallbacks: number;
  /** Why, each time. */
  readonly fallbackCauses: readonly string[];
  /** Unhandled rejections in the workers. */
  readonly unhandled: readonly string[];
}

export interface FleetBenchResult {
  readonly rows: readonly FleetRow[];
  readonly markdown: string;
}

interface Arrival {
  readonly at: number;
  readonly worker: number;
  readonly isProbe: boolean;
}

interface Upstream {
  readonly name: string;
  readonly port: number;
  readonly arrivals: Arrival[];
  close(): Promise<void>;
}

/** An HTTP upstream on 127.0.0.1 that logs every request it gets: healthy (200), dead (503), or hanging. */
async function startUpstream(name: string, mode: 'ok' | DeadKind): Promise<Upstream> {
  const arrivals: Arrival[] = [];
  const server: Server = createServer((req, res) => {
    arrivals.push({ at: Date.now(), worker: Number(req.headers[WORKER_HEADER]), isProbe: req.headers[PROBE_HEADER] === '1' });
    if (mode === 'hang') return; // the caller's timeout destroys the socket
    res.statusCode = mode === 'ok' ? 200 : 503;
    res.end(name);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    name,
    port,
    arrivals,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Start a worker; resolves once it is ready (synced, when it has a fleet), with a promise of its report. */
function startWorker(config: FleetWorkerConfig): Promise<{ readonly child: ChildProcess; readonly done: Promise<FleetWorkerReport> }> {
  const child = fork(WORKER, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const done = new Promise<FleetWorkerReport>((resolveDone, rejectDone) => {
      child.on('message', (message: FleetToParent) => {
        if (message.type === 'ready') resolve({ child, done });
        else resolveDone(message);
      });
      // A message to a worker on its way out fails (EPIPE) as an 'error' event: a failure of the run, not an uncaught exception.
      child.on('error', (cause) => {
        const error = new Error(`fleet worker ${config.worker} failed: ${cause.message}`, { cause });
        reject(error);
        rejectDone(error);
      });
      child.on('exit', (code) => {
        const error = new Error(`fleet worker ${config.worker} exited with code ${code}`);
        reject(error);
        rejectDone(error);
      });
    });
  });
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** One scenario with one way of sharing: fresh upstreams, fresh workers, a fresh Redis key. */
async function runOne(scenario: FleetScenario, sharing: FleetSharing, redisPort: number, settings: Required<Omit<FleetBenchOptions, 'scenarios' | 'sharings' | 'command' | 'log' | 'write'>>, run: number): Promise<FleetRow> {
  const upstreams = await Promise.all(['b0', 'b1', DEAD].map((name) => startUpstream(name, name === DEAD ? scenario.dead : 'ok')));
  const workers: { child: ChildProcess; done: Promise<FleetWorkerReport> }[] = [];
  try {
    const targets: FleetUpstream[] = upstreams.map((u) => ({ name: u.name, port: u.port }));
    const key = `bench-fleet:${process.pid}:${run}`;
    const configs = Array.from({ length: settings.processes }, (_, worker): FleetWorkerConfig => ({
      worker,
      upstreams: targets,
      ...(sharing.quorum === undefined ? {} : { fleet: { port: redisPort, key, quorum: sharing.quorum } }),
      rate: settings.rate,
      calls: settings.calls,
      timeout: settings.timeout,
      maxFailures: settings.maxFailures,
      cooldown: settings.cooldown,
    }));
    workers.push(...(await Promise.all(configs.map(startWorker))));
    // Every process starts its first call at the same moment, a little ahead so that the message arrives first.
    const at = Date.now() + 100;
    const startOf = (worker: number): number => at + worker * scenario.staggerMs;
    workers.forEach(({ child }, worker) => child.send({ type: 'start', at: startOf(worker) } satisfies FleetStart));
    const reports = await Promise.all(workers.map((w) => w.done));

    const dead = upstreams.find((u) => u.name === DEAD)!.arrivals;
    const openedAt = reports.map((r) => r.firstOpenAt[DEAD]).filter((at): at is number => at !== undefined);
    const firstOpening = openedAt.length > 0 ? Math.min(...openedAt) : undefined;
    // Every process's first opening, or none when one never opened.
    const lastOpening = openedAt.length === reports.length ? Math.max(...openedAt) : undefined;
    const firstSecond = reports.map((_, worker) => dead.filter((a) => a.worker === worker && a.at < startOf(worker) + 1_000).length);
    return {
      scenario: scenario.id,
      sharing: sharing.id,
      label: sharing.label,
      calls: sum(reports.map((r) => r.calls)),
      dead: dead.length,
      deadFirstSecond: sum(firstSecond),
      closedByProcess: reports.map((_, worker) => dead.filter((a) => a.worker === worker && !a.isProbe).length),
      deadAfterFirstOpening: firstOpening === undefined ? 0 : dead.filter((a) => a.at > firstOpening).length,
      probes: dead.filter((a) => a.isProbe).length,
      failed: sum(reports.map((r) => sum(Object.values(r.failed)))),
      firstOpeningMs: firstOpening === undefined ? undefined : firstOpening - at,
      lastFirstOpeningMs: lastOpening === undefined ? undefined : lastOpening - at,
      appliedOpenings: sum(reports.map((r) => r.appliedOpenings[DEAD] ?? 0)),
      fallbacks: sum(reports.map((r) => r.fleet?.fallbacks ?? 0)),
      fallbackCauses: reports.flatMap((r) => r.fallbackCauses),
      unhandled: reports.flatMap((r) => r.unhandled),
    };
  } finally {
    for (const { child } of workers) if (child.exitCode === null) child.kill();
    await Promise.all(upstreams.map((u) => u.close()));
  }
}

/** Run every scenario with every way of sharing, one after another, and return the rows and the section. */
export async function runFleetBench(options: FleetBenchOptions = {}): Promise<FleetBenchResult> {
  const settings = {
    processes: options.processes ?? 4,
    rate: options.rate ?? 50,
    calls: options.calls ?? 500,
    maxFailures: options.maxFailures ?? 5,
    cooldown: options.cooldown ?? 2_000,
    timeout: options.timeout ?? 500,
  };
  const scenarios = FLEET_SCENARIOS.filter((s) => options.scenarios?.includes(s.id) ?? true);
  const sharings = FLEET_SHARINGS.filter((s) => options.sharings?.includes(s.id) ?? true);
  const machineLine = machine();
  const started = performance.now();
  const server = await startRedisServer();
  const rows: FleetRow[] = [];
  try {
    for (const scenario of scenarios) {
      for (const sharing of sharings) {
        const row = await runOne(scenario, sharing, server.port, settings, rows.length);
        rows.push(row);
        options.log?.(`${scenario.id} / ${sharing.label}: ${row.dead} requests to ${DEAD}, ${row.probes} probes, ${row.failed} failed calls`);
      }
    }
  } finally {
    await server.stop();
  }
  const seconds = (performance.now() - started) / 1_000;
  const markdown = fleetMarkdown({ rows, settings, scenarios, machine: machineLine, seconds, command: options.command ?? 'node --import tsx bench/fleet.ts --write' });
  if (options.write === true) writeSection(new URL('./README.md', import.meta.url), `${markdown}\n`, FLEET_HEADING);
  return { rows, markdown };
}

interface MarkdownInput {
  readonly rows: readonly FleetRow[];
  readonly settings: { readonly processes: number; readonly rate: number; readonly calls: number; readonly maxFailures: number; readonly cooldown: number; readonly timeout: number };
  readonly scenarios: readonly FleetScenario[];
  readonly machine: string;
  readonly seconds: number;
  readonly command: string;
}

/** The table's header: the smoke test checks it. */
export const TABLE_HEADER = `| scenario | sharing | calls | to ${DEAD} | in each process's first second | after the first opening | half-open probes | failed calls | first opening: first / last process | openings applied from Redis |`;

const msText = (value: number | undefined): string => (value === undefined ? 'never' : `${value} ms`);

/** The `## Fleet` section of bench/README.md, heading included. */
export function fleetMarkdown(input: MarkdownInput): string {
  const { rows, settings } = input;
  const seconds = (settings.calls / settings.rate).toFixed(settings.calls % settings.rate === 0 ? 0 : 1);
  const out: string[] = [
    FLEET_HEADING,
    '',
    `<!-- Generated by bench/fleet.ts (\`${input.command}\`); edit the generator, not this section. -->`,
    '',
    `Command: \`${input.command}\` (${input.seconds.toFixed(0)} s). Machine: ${input.machine}.`,
    '',
    `${settings.processes} Node processes (bench/fleet-worker.ts), each a ClientPool (round robin, consecutive breaker: \`maxFailures: ${settings.maxFailures}\`, \`cooldown: ${settings.cooldown}\`, ` +
      `\`timeout: ${settings.timeout}\`, no retries) over 3 \`node:http\` upstreams on 127.0.0.1, b0, b1 and ${DEAD}, of which ${DEAD} is dead. ` +
      `Each process starts ${settings.rate} calls/s open-loop for ${seconds} s (${settings.calls} calls), all at the same moment unless the scenario says otherwise; a call is started on schedule whether or not the earlier ones have ended. ` +
      `The processes share nothing, or share circuits through a \`RedisFleet\` on a real redis-server (default settings: sync every 250 ms, probe lease 10 s; quorum 1, or 2). ` +
      'Counts are taken at the upstreams: **to b2** is every request that reached it; **in each process\'s first second**, those each process sent in the first second after its own start; **after the first opening**, those that arrived after its circuit first opened in any process; ' +
      '**half-open probes**, those sent while the sender read b2\'s circuit half-open. **failed calls** are the calls that failed at the callers (no retries: each request to b2 fails one call). ' +
      '**first opening**: from the first process\'s start to the first opening of b2\'s circuit in any process, and to the last process\'s first (an opening applied from Redis counts). ' +
      '**openings applied from Redis**: openings of b2 a process took from another\'s report (`onApply`), the fleet summed.',
    '',
    TABLE_HEADER,
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const scenario of input.scenarios) {
    for (const row of rows.filter((r) => r.scenario === scenario.id)) {
      out.push(
        `| ${scenario.title} | ${row.label} | ${row.calls} | ${row.dead} | ${row.deadFirstSecond} | ${row.deadAfterFirstOpening} | ${row.probes} | ${row.failed} | ` +
          `${msText(row.firstOpeningMs)} / ${msText(row.lastFirstOpeningMs)} | ${row.sharing === 'alone' ? '–' : row.appliedOpenings} |`,
      );
    }
  }
  out.push('', ...observations(input));
  return out.join('\n');
}

/** What the rows show, in sentences built from them (so that they stay true of the numbers beside them). */
function observations(input: MarkdownInput): string[] {
  const { rows, settings } = input;
  const lines: string[] = [];
  const probes = (r: FleetRow): string => `${r.probes} probe${r.probes === 1 ? '' : 's'}`;
  const list = (values: readonly number[]): string => values.join(', ');
  for (const scenario of input.scenarios) {
    const alone = rows.find((r) => r.scenario === scenario.id && r.sharing === 'alone');
    const shared = rows.filter((r) => r.scenario === scenario.id && r.sharing !== 'alone');
    if (alone === undefined || shared.length === 0) continue;
    const fleet = shared.map((r) => `${r.dead} with ${r.label} (${probes(r)})`).join(', ');
    const head = `- **${scenario.title}**: ${alone.dead} requests to ${DEAD} without sharing (${probes(alone)}), ${fleet}.`;
    if (scenario.staggerMs === 0) {
      const isAlike = shared.every((r) => sum(r.closedByProcess) >= 0.8 * sum(alone.closedByProcess));
      const spread = (alone.lastFirstOpeningMs ?? 0) - (alone.firstOpeningMs ?? 0);
      lines.push(
        `${head} Without sharing each process pays its own failures before its circuit opens (${list(alone.closedByProcess)}` +
          `${scenario.dead === 'hang' ? `, more than ${settings.maxFailures}: calls keep starting while the first ones wait out their timeout` : ''}) and then probes alone every cooldown. ` +
          (isAlike
            ? `Started together at one rate, the processes open their own circuits within ${spread} ms of each other (at ${msText(alone.firstOpeningMs)}), sooner than a sync could carry one's opening to the others, ` +
              `so the fleet pays the same failures (${shared.map((r) => list(r.closedByProcess)).join(' and ')}): what it saves here is the probing, one process holding the probe lease for all.`
            : `With the fleet the processes paid ${shared.map((r) => list(r.closedByProcess)).join(' and ')}, and one process holds the probe lease for all.`),
      );
    } else {
      lines.push(
        `${head} The failures each process paid before its circuit opened: ${list(alone.closedByProcess)} without sharing, ${shared.map((r) => `${list(r.closedByProcess)} with ${r.label}`).join(', ')}. ` +
          'A process that starts once the opening holds fleet-wide has applied it at a sync before its first call' +
          (shared.some((r) => r.sharing === 'quorum-2') ? `; with quorum 2 it holds only once a second process has failed ${settings.maxFailures} times too.` : '.'),
      );
    }
  }
  const fallbacks = rows.filter((r) => r.fallbacks > 0);
  const unhandled = rows.flatMap((r) => r.unhandled);
  const scenarioOf = (r: FleetRow): string => input.scenarios.find((s) => s.id === r.scenario)?.title ?? r.scenario;
  lines.push(
    '- What may vary from run to run: by a request or two, how many calls each process starts before its first opening or before a sync brings another\'s ' +
      '(a busy machine delays timers, syncs and the hanging calls\' timeouts alike), which process wins the probe lease, and whether a probe falls just before or after the last call; ' +
      'otherwise the counts do not depend on the machine\'s speed. ' +
      (fallbacks.length === 0
        ? 'No process fell back to its local view in the fleet runs'
        : `Fallbacks to the local view (Redis failed or answered after the fleet's 200 ms \`timeout\`; meanwhile that process probes alone): ${fallbacks.map((r) => `${r.fallbacks} in ${scenarioOf(r)} / ${r.label} (${[...new Set(r.fallbackCauses)].join('; ')})`).join(', ')}`) +
      `; unhandled rejections: ${unhandled.length}.`,
  );
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const isQuick = args.includes('--quick');
  const isWrite = args.includes('--write');
  const command = `node --import tsx bench/fleet.ts${isQuick ? ' --quick' : ''}${isWrite ? ' --write' : ''}`;
  const result = await runFleetBench({ ...(isQuick ? { calls: 150 } : {}), command, write: isWrite, log: (line) => console.log(line) });
  console.log(`\n${result.markdown}${isWrite ? '\n\nwritten to bench/README.md' : ''}`);
}
