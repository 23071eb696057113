/**
 * Starts a throwaway `redis-server` on a free loopback port for the Redis tests and the Redis bench:
 * no persistence, stopped after. `redis-server --port 0` is not allowed, so a free port is found by binding
 * a socket to port 0 and closing it (and the start is retried should another process grab it meanwhile).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** A running server; `kill()` and `restart()` simulate a crash and a recovery on the same port. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL, as a crash: no shutdown, no goodbye to clients. */
  kill(): Promise<void>;
  /** Start again on the same port (after `kill()` or `stop()`), empty. */
  restart(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
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

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not read the bound port');
  return address.port;
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

class RunningServer implements RedisServer {
  readonly port: number;
  readonly url: string;
  readonly #path: string;
  #child: ChildProcess | undefined;

  private constructor(path: string, port: number) {
    this.#path = path;
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(path: string, port: number): Promise<RunningServer> {
    const server = new RunningServer(path, port);
    await server.restart();
    return server;
  }

  async restart(): Promise<void> {
    if (this.#child !== undefined) throw new Error('redis-server is already running');
    const child = spawn(this.#path, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit').then(() => {
      throw new Error(`redis-server exited on start (port ${this.port}): ${stderr.trim()}`);
    });
    exited.catch(() => {});
    try {
      await Promise.race([waitForPing(this.port, 5_000), exited]);
    } catch (error) {
      child.kill('SIGKILL');
      this.#child = undefined;
      throw error;
    }
  }

  kill(): Promise<void> {
    return this.#end('SIGKILL');
  }

  stop(): Promise<void> {
    return this.#end('SIGTERM');
  }

  async #end(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
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
