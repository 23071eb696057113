// Loopback origins for the undici adapter's tests: real node:http servers on 127.0.0.1, port 0.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Origin {
  readonly name: string;
  readonly url: string;
  readonly server: Server;
  /** `METHOD path` of every request that reached this origin, in arrival order. */
  readonly hits: string[];
  /** Bodies of the requests it read (see `readBody`), in order. */
  readonly bodies: Buffer[];
  /** Requests whose connection closed before their response finished (aborted by the client). */
  readonly aborted: string[];
  /** Stop it for good: no new connection, every open socket destroyed (a crash, as clients see it). */
  kill(): Promise<void>;
}

export type Respond = (request: IncomingMessage, response: ServerResponse, body: Buffer) => void;

const started: Origin[] = [];

/** Start an origin; `respond` answers each request after its body was read (default: 200 `<name> <path>`). */
export async function startOrigin(name: string, respond: Respond = (request, response) => response.end(`${name} ${request.url ?? ''}`)): Promise<Origin> {
  const hits: string[] = [];
  const bodies: Buffer[] = [];
  const aborted: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const hit = `${request.method ?? ''} ${request.url ?? ''}`;
    hits.push(hit);
    response.on('close', () => {
      if (!response.writableFinished) aborted.push(hit);
    });
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.push(body);
      respond(request, response, body);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin: Origin = {
    name,
    url: `http://127.0.0.1:${port}`,
    server,
    hits,
    bodies,
    aborted,
    async kill() {
      const closed = server.listening ? once(server, 'close') : Promise.resolve();
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  started.push(origin);
  return origin;
}

/** Kill every origin started so far (for afterEach). */
export async function stopOrigins(): Promise<void> {
  await Promise.all(started.splice(0).map((origin) => origin.kill()));
}

/**
 * Resolve once `predicate` holds, checking every few ms. The bound is on a hang, not on speed: a busy
 * machine may take long to deliver a socket's close, never 10 s.
 */
export async function until(predicate: () => boolean, boundMs = 10_000): Promise<void> {
  const giveUp = Date.now() + boundMs;
  while (!predicate()) {
    if (Date.now() > giveUp) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
