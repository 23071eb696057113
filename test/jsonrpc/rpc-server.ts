import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One JSON-RPC request as a server received it. */
export interface RpcRequest {
  readonly id: unknown;
  readonly method: string;
  readonly params: unknown;
}

/**
 * What a server does with one request: answer `{ result }` or `{ error }` (HTTP 200 unless `status`),
 * answer a bare HTTP status with `headers` and an optional text `body`, never answer (`hang`), or drop
 * the connection (`reset`). For a batch, each item's `result`/`error` is answered in one array.
 */
export type Reply =
  | { readonly result: unknown; readonly status?: number; readonly headers?: Readonly<Record<string, string>> }
  | { readonly error: { readonly code: number; readonly message: string; readonly data?: unknown }; readonly status?: number; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string }
  | 'hang'
  | 'reset';

export type Behaviour = (request: RpcRequest) => Reply;

/** A JSON-RPC server on 127.0.0.1 (an ephemeral port), counting what it receives. */
export interface RpcServer {
  readonly url: string;
  /** Every request received, batch items one by one, in order. */
  readonly requests: RpcRequest[];
  /** HTTP requests received (a batch is one). */
  readonly httpRequests: number;
  /** Requests left hanging whose connection the client has not closed yet. */
  readonly hanging: number;
  /** Requests received for `method`, or all of them. */
  count(method?: string): number;
  /** Change what the server does from now on. */
  behave(behaviour: Behaviour): void;
  close(): Promise<void>;
}

/** Start a server; `behaviour` decides each request's reply. */
export async function startRpcServer(behaviour: Behaviour): Promise<RpcServer> {
  let current = behaviour;
  const requests: RpcRequest[] = [];
  let httpRequests = 0;
  let hanging = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    httpRequests++;
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    const items = (Array.isArray(body) ? body : [body]) as RpcRequest[];
    const replies = items.map((item) => {
      requests.push({ id: item.id, method: item.method, params: item.params });
      return current(item);
    });
    const first = replies[0]!;
    if (first === 'hang') {
      hanging++;
      res.on('close', () => hanging--);
      return;
    }
    if (first === 'reset') {
      req.socket.destroy();
      return;
    }
    if (!('result' in first) && !('error' in first)) {
      res.writeHead(first.status, { 'content-type': 'text/plain', ...first.headers });
      res.end(first.body ?? 'upstream unavailable');
      return;
    }
    const messages = replies.map((reply, i) => {
      const id = items[i]!.id;
      if (typeof reply === 'string' || (!('result' in reply) && !('error' in reply))) return { jsonrpc: '2.0', id, error: { code: -32603, message: 'mixed batch reply' } };
      return 'result' in reply ? { jsonrpc: '2.0', id, result: reply.result } : { jsonrpc: '2.0', id, error: reply.error };
    });
    res.writeHead(first.status ?? 200, { 'content-type': 'application/json', ...first.headers });
    res.end(JSON.stringify(Array.isArray(body) ? messages : messages[0]));
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get httpRequests() {
      return httpRequests;
    },
    get hanging() {
      return hanging;
    },
    count: (method) => (method === undefined ? requests.length : requests.filter((r) => r.method === method).length),
    behave(next) {
      current = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Servers started in a test, closed together. */
export async function startRpcServers(...behaviours: Behaviour[]): Promise<RpcServer[]> {
  return Promise.all(behaviours.map((b) => startRpcServer(b)));
}

export async function closeAll(servers: readonly RpcServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.close()));
}
