// A process with a fleet whose Redis hangs or fails exits by itself: nothing of the fleet keeps it alive.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./fleet-exit-child.ts', import.meta.url));

function runChild(mode: string): Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', CHILD, mode], { timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: child.exitCode, stdout, stderr, killed: error?.killed === true || child.signalCode !== null });
    });
  });
}

it.each([
  ['hang', 'closed'],
  ['down', 'closed'],
  ['open', 'fallback'],
])('Redis %s: the process exits by itself with code 0 (pool closed, or left open: the fleet timers are unref\'d)', { timeout: 30_000 }, async (mode, finalMode) => {
  const result = await runChild(mode);
  expect(result.killed).toBe(false);
  expect(result.stderr).not.toContain('unhandled');
  expect(result.stdout.trim()).toBe(`done ${finalMode}`);
  expect(result.code).toBe(0);
});
