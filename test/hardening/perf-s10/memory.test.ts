import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The pool caches the watch of the signal last joined: once that signal's calls ended and the loop
// turned, neither the cache nor a listener may keep the signal alive. Checked with a real GC in a child
// process (--expose-gc); the time limit only catches a hang.
describe('caller signals are not kept alive by the pool', () => {
  it('a signal (a controller\'s, or AbortSignal.timeout()) is collectable once its calls ended and the loop turned', () => {
    const script = fileURLToPath(new URL('fixtures/signals-not-kept.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], { encoding: 'utf8', timeout: 120_000 });
    const cases = ['plain', 'timed', 'waited', 'retried', 'timedOut'].flatMap((name) => [`${name}/controller: collected`, `${name}/timeout: collected`]);
    expect({ status: child.status, stdout: child.stdout.trim().split('\n') }, child.stderr).toEqual({ status: 0, stdout: cases });
  }, 150_000);
});
