// Shared by the e2e tests: run `npm run demo`'s command (node with the tsx loader on examples/demo.ts) as a child
// process with piped, non-TTY output, read what it prints, poll HTTP endpoints with a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The clients of the demo's pool, as labelled in its metrics. */
export const CLIENTS = ['healthy', 'slow', 'flaky', 'outage'] as const;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running demo. */
export class DemoProcess {
  readonly #child: ChildProcess;
  #output = '';
  /** Resolves when the process has exited and its output is fully read. */
  readonly exited: Promise<Exit>;

  constructor(args: readonly string[]) {
    // Its own process group, as a shell job: a signal to the group reaches it as Ctrl-C in a terminal
    // does, and a cleanup kill leaves no orphan behind. One node process with the tsx loader, not the
    // tsx CLI: the CLI relays signals to its child and kills it when the child does not confirm within
    // 30 ms, which a busy machine exceeds.
    this.#child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts', ...args], {
      cwd: REPO,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    this.#child.stdout!.setEncoding('utf8').on('data', (text: string) => (this.#output += text));
    this.#child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.#output += text));
    this.exited = once(this.#child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  }

  /** Everything printed so far, stdout and stderr. */
  get output(): string {
    return this.#output;
  }

  get isRunning(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Wait until the output matches `pattern`; returns the match. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return pollUntil(
      async () => {
        const match = pattern.exec(this.#output);
        if (match === null && !this.isRunning) throw new Error(`the demo exited before printing ${String(pattern)}:\n${this.#output}`);
        return match ?? undefined;
      },
      timeoutMs,
      () => `the demo did not print ${String(pattern)} within ${timeoutMs} ms; it printed:\n${this.#output}`,
    );
  }

  /** The metrics URL the demo printed. */
  async metricsUrl(timeoutMs = 15_000): Promise<string> {
    return (await this.waitFor(/metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)/, timeoutMs))[1]!;
  }

  /** Signal the whole process group, as a terminal does. */
  signal(signal: NodeJS.Signals): void {
    if (this.isRunning && this.#child.pid !== undefined) process.kill(-this.#child.pid, signal);
  }

  /** Make sure it is gone: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.isRunning) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Call `probe` every `intervalMs` until it returns a value other than `undefined`, and return that. A probe
 * that throws ends the wait with its error; so does the deadline, with `message()`.
 */
export async function pollUntil<R>(probe: () => Promise<R | undefined>, timeoutMs: number, message: () => string, intervalMs = 200): Promise<R> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(message());
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** GET `url` as text; `undefined` when it cannot be reached (not yet listening, or gone). */
export async function fetchText(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

/** A port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The sum of the series of `name` whose labels include `labels` (Prometheus text format); undefined when none. */
export function sumOf(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) sum = (sum ?? 0) + Number(match[3]);
  }
  return sum;
}
