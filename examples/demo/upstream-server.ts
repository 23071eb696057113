// A real HTTP upstream on loopback (node:http), with a behaviour: how long it takes to answer and how
// often it fails. It can be killed (server closed, open connections destroyed) and restarted on the
// same port, as a crashed process coming back.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Random } from '../../src/index.js';

/** How an upstream answers. */
export interface Behaviour {
  /** One line for the dashboard. */
  readonly summary: string;
  /** Milliseconds to wait before answering a request, drawn with `random`. */
  latencyMs(random: Random): number;
  /** Probability that a request is answered with HTTP 503. @default 0 */
  readonly failureRate?: number;
}

/** The loopback address every server of the demo binds to: nothing is reachable from outside. */
export const LOOPBACK = '127.0.0.1';

const NAMES = ['anvil', 'bolt', 'cog', 'dynamo', 'gear', 'lever', 'piston', 'pulley', 'rivet', 'spring', 'valve', 'winch'];

/** An HTTP upstream with a behaviour. `start()` listens on a free port, and the same port after a `kill()`. */
export class UpstreamServer {
  readonly name: string;
  readonly behaviour: Behaviour;
  readonly #random: Random;
  readonly #server: Server;
  /** Answers waiting for their latency to pass; cleared on kill so that no timer outlives the server. */
  readonly #pending = new Set<NodeJS.Timeout>();
  /** Open connections, idle or not, to destroy on kill. (Kept here: `getConnections()` says 0 under the tsx CLI.) */
  readonly #sockets = new Set<Socket>();
  #port = 0;
  #startedAt = 0;
  #served = 0;
  #isUp = false;
  /** Start and kill run one after the other, so that a kill during a restart still leaves it down. */
  #lifecycle: Promise<unknown> = Promise.resolve();

  constructor(name: string, behaviour: Behaviour, random: Random) {
    this.name = name;
    this.behaviour = behaviour;
    this.#random = random;
    this.#server = createServer((request, response) => this.#handle(request, response));
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    // Undici keeps a connection for the server's keep-alive hint less 2 s, so the hint must exceed 2 s
    // or every request opens a new connection. Kill destroys the idle connections anyway.
    this.#server.keepAliveTimeout = 10_000;
  }

  get isUp(): boolean {
    return this.#isUp;
  }

  /** The port, fixed by the first `start()`. */
  get port(): number {
    return this.#port;
  }

  get origin(): string {
    return `http://${LOOPBACK}:${this.#port}`;
  }

  /** Listen on loopback: on a free port the first time, on the same port after a `kill()`. */
  start(): Promise<void> {
    return this.#serialize(() => this.#start());
  }

  /** Stop as a crash does: refuse new connections, destroy open ones, drop answers in progress. Resolves with how many connections were destroyed. */
  kill(): Promise<number> {
    return this.#serialize(() => this.#kill());
  }

  #serialize<R>(operation: () => Promise<R>): Promise<R> {
    const result = this.#lifecycle.then(operation);
    this.#lifecycle = result.catch(() => undefined);
    return result;
  }

  async #start(): Promise<void> {
    if (this.#isUp) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(this.#port, LOOPBACK, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#startedAt = performance.now();
    this.#isUp = true;
  }

  async #kill(): Promise<number> {
    if (!this.#isUp) return 0;
    this.#isUp = false;
    for (const timer of this.#pending) clearTimeout(timer);
    this.#pending.clear();
    const destroyed = this.#sockets.size;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    return destroyed;
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', this.origin);
    const random = this.#random;
    const delay = this.behaviour.latencyMs(random);
    const fails = random() < (this.behaviour.failureRate ?? 0);
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      if (response.destroyed) return;
      if (fails) return void response.writeHead(503, { 'content-type': 'text/plain' }).end('try again\n');
      const body = this.#answer(url);
      if (body === undefined) return void response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      this.#served++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }, delay);
    this.#pending.add(timer);
  }

  #answer(url: URL): object | undefined {
    const item = (id: number): object => ({ id, name: NAMES[id % NAMES.length]!, upstream: this.name });
    const match = /^\/items\/(\d+)$/.exec(url.pathname);
    if (match !== null) return item(Number(match[1]));
    if (url.pathname === '/search') {
      const query = url.searchParams.get('q') ?? '';
      const limit = Number(url.searchParams.get('limit') ?? 5);
      const hits = NAMES.flatMap((name, id) => (name.includes(query) ? [item(id)] : [])).slice(0, limit);
      return { query, hits, upstream: this.name };
    }
    if (url.pathname === '/status') return { upstream: this.name, uptimeMs: Math.round(performance.now() - this.#startedAt), served: this.#served };
    return undefined;
  }
}
