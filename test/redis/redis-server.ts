/**
 * Starts a throwaway `redis-server` on a free loopback port for the Redis tests and the Redis bench:
 * no persistence, stopped after. `redis-server --port 0` is not allowed, so a free port is found by binding
 * a socket to it and closing it (and the start is retried on another port should another process grab it
 * meanwhile). The port is chosen below the kernel's ephemeral range where it can be: a server killed and
 * restarted on its port (`kill()`, `restart()`) leaves it free meanwhile, and a port in that range could
 * be handed to anything that listens on port 0 (another test's server) in between.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** A running server; `kill()` and `restart()` simulate a crash and a recovery on the same port. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL, as a crash: no shutdown, no goodbye to clients. */
  kill(): Promise<void>;
  /** Start again on the same port (after `kill()` or `stop()`), empty; waits up to about 5 s for the port should something else hold it. */
  restart(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** Whether it was started and not killed or stopped since. */
  readonly isRunning: boolean;
}

/**
 * Path of `redis-server`, or undefined: `REDIS_SERVER` when set (and only it, so a test can hide the
 * binary), else the first on PATH, /usr/bin or /usr/local/bin.
 */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env['REDIS_SERVER'];
  const candidates =
    configured === undefined
      ? [...(env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'redis-server')), '/usr/bin/redis-server', '/usr/local/bin/redis-server']
      : [configured];
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What the Redis suites do on this machine: run; fail (CI set, no redis-server); or skip (locally). */
export function redisSuiteMode(binary: string | undefined, env: NodeJS.ProcessEnv = process.env): 'run' | 'fail' | 'skip' {
  if (binary !== undefined) return 'run';
  const ci = env['CI'];
  return ci === undefined || ci === '' || ci === '0' || ci === 'false' ? 'skip' : 'fail';
}

/** Said when redis-server cannot be found. */
export const REDIS_SERVER_MISSING = 'redis-server not found (set REDIS_SERVER or install the Debian package redis-server)';

/** Lowest port {@link freePort} picks below the ephemeral range: above most fixed ports of local services. */
const LOWEST_PORT = 10_000;

/** A port that was free a moment ago on 127.0.0.1: below the ephemeral range if there is room, else any the kernel gives. */
export async function freePort(): Promise<number> {
  const below = ephemeralRange()?.[0];
  if (below !== undefined && below - LOWEST_PORT >= 1_000) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = LOWEST_PORT + Math.floor(Math.random() * (below - LOWEST_PORT));
      if ((await bindOnce(port)) !== undefined) return port;
    }
  }
  const port = await bindOnce(0);
  if (port === undefined) throw new Error('could not bind a port on 127.0.0.1');
  return port;
}

/** Bind `port` (0: any) on 127.0.0.1 and close it again: the port bound, or undefined when it was taken. */
async function bindOnce(port: number): Promise<number | undefined> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  } catch {
    return undefined;
  }
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not read the bound port');
  return address.port;
}

/** The ports the kernel gives to `bind(0)` and to outgoing connections (Linux), or undefined where it cannot be read. */
function ephemeralRange(): readonly [number, number] | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return Number.isInteger(low) && Number.isInteger(high) ? [low!, high!] : undefined;
  } catch {
    return undefined;
  }
}

/** Start a server on a free port and wait until it answers PING. */
export async function startRedisServer(): Promise<RedisServer> {
  const path = findRedisServer();
  if (path === undefined) throw new Error(REDIS_SERVER_MISSING);
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return await RunningServer.start(path, port);
    } catch (error) {
      lastError = error; // most likely the port was taken between freePort() and the bind: try another
    }
  }
  throw new Error(`could not start redis-server: ${String(lastError)}`);
}

/**
 * Waits before each new try of `restart()` on a port still taken (Address already in use): up to about 5 s
 * in all, for whatever held it (a server of another test on it for a moment) to let it go.
 */
const RESTART_BACKOFF_MS = [50, 100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000];

/** How much of the server's log (it logs to stdout) is kept for the error of a failed start. */
const LOG_TAIL_CHARS = 8_000;

/** The server could not start because its port is taken: what `restart()` tries again. */
class PortInUseError extends Error {}

class RunningServer implements RedisServer {
  readonly port: number;
  readonly url: string;
  readonly #path: string;
  #child: ChildProcess | undefined;
  /** Resolves when the current child has exited (and its sockets are closed). */
  #exited: Promise<void> = Promise.resolve();

  private constructor(path: string, port: number) {
    this.#path = path;
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
  }

  /** One try: a port taken here means another one is picked (`startRedisServer`), not waited for. */
  static async start(path: string, port: number): Promise<RunningServer> {
    const server = new RunningServer(path, port);
    await server.#spawn();
    return server;
  }

  async restart(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#spawn();
        return;
      } catch (error) {
        const wait = RESTART_BACKOFF_MS[attempt];
        if (!(error instanceof PortInUseError) || wait === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  async #spawn(): Promise<void> {
    if (this.#child !== undefined) throw new Error('redis-server is already running');
    const child = spawn(this.#path, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    // redis-server logs to stdout (why it aborted: "Address already in use", ...), and errors of its own to stderr.
    let log = '';
    const keep = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-LOG_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    // 'error' (not spawned) ends it as 'exit' does; 'close' comes after both, once its output is all read.
    const ended = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.#exited = ended;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      void ended.then(() => {
        const message = `redis-server exited on start (port ${this.port}): ${log.trim()}`;
        reject(/Address already in use/i.test(log) ? new PortInUseError(message) : new Error(message));
      });
    });
    failed.catch(() => {});
    try {
      await Promise.race([waitForPing(this.port, 5_000), failed]);
    } catch (error) {
      await this.#end('SIGKILL');
      throw error;
    }
  }

  get isRunning(): boolean {
    return this.#child !== undefined;
  }

  kill(): Promise<void> {
    return this.#end('SIGKILL');
  }

  stop(): Promise<void> {
    return this.#end('SIGTERM');
  }

  /** Signal the child and wait until it is gone, so that its port is free for the next start. */
  async #end(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await this.#exited;
  }
}

/** Poll with a raw PING until the server answers +PONG. */
async function waitForPing(port: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
