import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blocksOf, REPO } from './markdown-blocks.js';
import { HANG_BOUND_MS } from '../helpers/hang-bound.js';

// The README's quick start, in TypeScript and in plain JavaScript, is the pair of files in examples/,
// and both run against two real HTTP upstreams: one healthy, one answering 503 to everything.
const run = promisify(execFile);
const QUICK_STARTS = [
  ['examples/quick-start.ts', 'ts'],
  ['examples/quick-start.mjs', 'js'],
] as const;
// `clientpool` resolves to the sources (tsconfig `paths`), as an installed package resolves to its build.
const TSCONFIG = path.join(REPO, 'test/docs/quick-start.tsconfig.json');

let healthy: Server;
let failing: Server;
let failingRequests = 0;
const urlOf = (server: Server): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

beforeAll(async () => {
  healthy = createServer((_request, response) => response.end('hello from healthy'));
  failing = createServer((_request, response) => {
    failingRequests++;
    response.writeHead(503).end('unavailable');
  });
  await Promise.all([once(healthy.listen(0, '127.0.0.1'), 'listening'), once(failing.listen(0, '127.0.0.1'), 'listening')]);
});

afterAll(async () => {
  healthy.closeAllConnections();
  failing.closeAllConnections();
  await Promise.all([new Promise((resolve) => healthy.close(resolve)), new Promise((resolve) => failing.close(resolve))]);
});

describe('the quick start', () => {
  it.each(QUICK_STARTS)('README.md shows %s as it is, in a ```%s block', (file, lang) => {
    const source = readFileSync(path.join(REPO, file), 'utf8');
    expect(blocksOf('README.md').filter((block) => block.lang === lang).map((block) => block.code)).toContain(source);
  });

  it('the JavaScript one is plain JavaScript that Node parses as it is (no types, no `await using`)', async () => {
    await expect(run(process.execPath, ['--check', path.join(REPO, 'examples/quick-start.mjs')])).resolves.toMatchObject({ stderr: '' });
  });

  it.each(QUICK_STARTS)('%s runs every call through the healthy upstream, retrying those the 503 upstream failed', async (file) => {
    const before = failingRequests;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(REPO, file)], {
      cwd: REPO,
      env: { ...process.env, UPSTREAMS: `${urlOf(healthy)},${urlOf(failing)}`, TSX_TSCONFIG_PATH: TSCONFIG },
      timeout: 30_000,
    });
    expect(stdout).toBe('hello from healthy\n'.repeat(4));
    // Round robin sent the 503 upstream its share: those calls were saved by the retry.
    expect(failingRequests - before).toBeGreaterThanOrEqual(1);
  }, HANG_BOUND_MS);
});
