import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CandidateReply, CandidateRequest } from './candidate-process.js';
import { median, type Measurement, type MeasureOptions } from './harness.js';

const CHILD = fileURLToPath(new URL('./candidate-process.ts', import.meta.url));

/** Starts the process of one candidate (bench/candidate-process.ts), warmed up with `warmup` calls. */
function forkCandidate(name: string, warmup: number): ChildProcess {
  // On the built package when the bench is (bench/use-dist.mjs), as every other candidate.
  const dist = process.env['CLIENTPOOL_BENCH_DIST'] === '1' ? ['--import', fileURLToPath(new URL('./use-dist.mjs', import.meta.url))] : [];
  return fork(CHILD, [name, String(warmup)], { execArgv: ['--import', 'tsx', ...dist], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** A candidate's own process, asked for one measurement at a time. Exported for its tests, which give it a stand-in child. */
export class CandidateProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  #pending: ((reply: CandidateReply) => void) | undefined;
  #failure: Error | undefined;

  constructor(name: string, warmup: number, child: ChildProcess = forkCandidate(name, warmup)) {
    this.name = name;
    this.#child = child;
    this.#child.on('message', (reply: CandidateReply) => this.#answer(reply));
    // A send to a child that is exiting fails with EPIPE as an 'error' event: without this listener it
    // would be an uncaught exception of the parent (it was once in CI, from close() on a child that failed).
    this.#child.on('error', (error) => {
      this.#failure ??= new Error(`the process of "${name}" failed: ${error.message}`, { cause: error });
      this.#answer({ error: this.#failure.message });
    });
    this.#child.on('exit', (code) => {
      this.#failure ??= new Error(`the process of "${name}" exited (code ${String(code)})`);
      this.#answer({ error: this.#failure.message });
    });
  }

  /** Resolves once it has warmed up. */
  ready(): Promise<void> {
    return this.#next().then(() => undefined);
  }

  time(iterations: number, warmupMs = 0): Promise<number> {
    return this.#ask({ op: 'time', iterations, warmupMs }).then((reply) => (reply as { ns: number }).ns);
  }

  allocations(iterations: number): Promise<number> {
    return this.#ask({ op: 'alloc', iterations }).then((reply) => (reply as { bytes: number }).bytes);
  }

  close(): Promise<void> {
    if (this.#child.exitCode !== null || !this.#child.connected) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    // A child already on its way out may refuse the message (EPIPE): then it is stopped, and its exit awaited.
    this.#child.send({ op: 'close' } satisfies CandidateRequest, (error) => {
      if (error !== null && this.#child.exitCode === null) this.#child.kill();
    });
    return exited;
  }

  #ask(request: CandidateRequest): Promise<CandidateReply> {
    const reply = this.#next();
    this.#child.send(request, (error) => {
      if (error !== null) this.#answer({ error: `the process of "${this.name}" could not be asked: ${error.message}` });
    });
    return reply;
  }

  #next(): Promise<CandidateReply> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#pending = (reply) => ('error' in reply ? reject(new Error(`candidate "${this.name}": ${reply.error}`)) : resolve(reply));
    });
  }

  #answer(reply: CandidateReply): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.(reply);
  }
}

/** What `measureIsolated` is told: `measure`'s options, the allocation pass, and how many processes each candidate gets. */
export interface IsolatedOptions extends MeasureOptions {
  readonly allocationIterations: number;
  readonly allocationRounds: number;
  /**
   * Processes per candidate (default 1). The same build in five processes of its own timed 142 to 163 ns per
   * default call in one run (JIT and heap layout differ per process): one process is one draw of that.
   * With more, each round's figure is the median of the candidate's processes in that round.
   */
  readonly processes?: number;
  /**
   * Ms of untimed calls each process makes right before each of its timed rounds (default 0). A process
   * idles while the others are timed, and on this project's machines its first few ms of calls after an
   * idle second ran at half speed or worse, whatever the candidate (bench/README.md, "Warm rounds"): a
   * cost of waking, the same time for every candidate, which the table's per-call figures are not about.
   */
  readonly roundWarmupMs?: number;
}

/**
 * `measure` (bench/harness.ts) with every candidate in a process of its own, as Node's own benchmark
 * runner does per configuration (benchmark/common.js forks a child for each): one process running twenty
 * configurations of the same library makes its call path polymorphic, which a service using one
 * configuration never sees. Rounds are still interleaved (one process runs at a time, the order rotating
 * every round), so machine noise hits all candidates alike; allocations are counted in the same processes.
 */
export async function measureIsolated(names: readonly string[], options: IsolatedOptions): Promise<Measurement[]> {
  const copies = options.processes ?? 1;
  if (!Number.isInteger(copies) || copies < 1) throw new RangeError(`processes must be a whole number >= 1, got ${String(copies)}`);
  const roundWarmupMs = options.roundWarmupMs ?? 0;
  if (!(roundWarmupMs >= 0 && roundWarmupMs <= 10_000)) throw new RangeError(`roundWarmupMs must be a number of ms from 0 to 10 000, got ${String(roundWarmupMs)}`);
  // Process p of candidate i is at p * names.length + i: the copies of one candidate are spread over the order.
  const processes = Array.from({ length: copies }, () => names.map((name) => new CandidateProcess(name, options.warmup ?? Math.min(options.iterations, 20_000)))).flat();
  try {
    // Started together, warmed up before any round: no process starts while another is being timed.
    await Promise.all(processes.map((p) => p.ready()));
    const samples = processes.map(() => [] as number[]);
    const bytes = processes.map(() => [] as number[]);
    for (let round = 0; round < options.rounds; round++) {
      for (let k = 0; k < processes.length; k++) {
        const i = (k + round) % processes.length;
        samples[i]!.push(await processes[i]!.time(options.iterations, roundWarmupMs));
      }
    }
    for (let round = 0; round < options.allocationRounds; round++) {
      for (let k = 0; k < processes.length; k++) {
        const i = (k + round) % processes.length;
        bytes[i]!.push(await processes[i]!.allocations(options.allocationIterations));
      }
    }
    return names.map((name, i) => {
      const own = Array.from({ length: copies }, (_, p) => p * names.length + i);
      const rounds = roundsAcross(own.map((p) => samples[p]!));
      const sorted = [...rounds].sort((a, b) => a - b);
      const middle = sorted[Math.floor(sorted.length / 2)]!;
      const allocations = own.flatMap((p) => bytes[p]!);
      return {
        name,
        nsPerCall: middle,
        spread: (sorted[sorted.length - 1]! - sorted[0]!) / middle,
        rounds,
        ...(copies > 1 ? { processMedians: own.map((p) => median(samples[p]!)) } : {}),
        ...(allocations.length > 0 ? { bytesPerCall: median(allocations) } : {}),
      };
    });
  } finally {
    await Promise.all(processes.map((p) => p.close()));
  }
}

/** One candidate's figure per round from the rounds of each of its processes: their median in that round. */
export function roundsAcross(perProcess: readonly (readonly number[])[]): number[] {
  const count = Math.min(...perProcess.map((rounds) => rounds.length));
  return Array.from({ length: count }, (_, r) => median(perProcess.map((rounds) => rounds[r]!)));
}
