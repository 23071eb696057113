// The core on Node, Bun and Deno: bundles examples/runtimes/app.ts (a pool over `fetch`, with a breaker,
// retry, timeout, limits and trace IDs) for the browser platform, with no Node built-in in it, and runs
// that one file under each runtime against two local upstreams, one of them failing. A runtime that is
// not installed is skipped. Run: npx tsx examples/runtimes.ts
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = new URL('../node_modules/.bin/', import.meta.url).pathname;

// Two upstreams on one server: /healthy answers 42, /flaky answers 503. Every request must carry a trace ID.
const traceIds: string[] = [];
const server: Server = createServer((request, response) => {
  traceIds.push(String(request.headers['x-trace-id']));
  response.writeHead(request.url === '/healthy' ? 200 : 503, { 'content-type': 'text/plain' });
  response.end(request.url === '/healthy' ? '42' : 'unavailable');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };

const dir = mkdtempSync(join(tmpdir(), 'clientpool-runtimes-'));
const app = join(dir, 'app.mjs');
try {
  await build({
    entryPoints: [new URL('runtimes/app.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser', // fails the build if the core imported a Node built-in
    format: 'esm',
    outfile: app,
    define: { UPSTREAMS: JSON.stringify([`http://127.0.0.1:${port}/flaky`, `http://127.0.0.1:${port}/healthy`]) },
    logLevel: 'warning',
  });
  const runtimes: [string, string, string[]][] = [
    ['node', process.execPath, [app]],
    ['bun', join(bin, 'bun'), [app]],
    ['deno', join(bin, 'deno'), ['run', '--no-lock', `--allow-net=127.0.0.1:${port}`, app]],
  ];
  for (const [name, command, args] of runtimes) {
    if (!existsSync(command)) {
      console.log(`${name}: not installed, skipped`);
      continue;
    }
    const { stdout } = await run(command, args, { timeout: 60_000 });
    process.stdout.write(stdout);
  }
  const wellFormed = traceIds.filter((id) => /^[0-9a-f]{32}$/.test(id)).length;
  console.log(`${wellFormed}/${traceIds.length} requests carried a W3C trace ID`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  server.closeAllConnections();
  server.close();
}
