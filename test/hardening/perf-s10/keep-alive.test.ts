import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The deadline queue's one timer is let go (unref'd) once the loop turns with nothing queued, and must be
// ref'd again whenever something is queued. Each script runs in a child process; the time limit only
// catches a hang (every delay of the exit script is 10 minutes), far above what a busy machine needs.
function runScript(name: string): { status: number | null; signal: NodeJS.Signals | null; stdout: string } {
  const script = fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 120_000 });
  return { status: child.status, signal: child.signal, stdout: child.stdout.trim() };
}

describe('deadline queue: the timer keeps the process alive exactly while something is queued', () => {
  it('a call that only its timeout can end rejects with TimeoutError before the process exits', () => {
    expect(runScript('only-a-timeout-ends.ts')).toEqual({ status: 0, signal: null, stdout: 'TimeoutError ERR_TIMEOUT late enough' });
  }, 150_000);

  it('timed calls whose functions resolve from unref\'d timers are waited for, for a later or a sooner deadline', () => {
    expect(runScript('unref-sources.ts')).toEqual({ status: 0, signal: null, stdout: ['later deadline', 'sooner deadline', 'ab', 'deadline'].join('\n') });
  }, 150_000);

  it('a retry backoff and a hedge delay with nothing else pending keep the process alive until they are over', () => {
    expect(runScript('backoff-and-hedge.ts')).toEqual({ status: 0, signal: null, stdout: 'retried after 1 failure\nhedge' });
  }, 150_000);

  it('a script whose timed, signalled, hedged and retried calls settled exits without closing its pool', () => {
    expect(runScript('settled-calls-exit.ts')).toEqual({ status: 0, signal: null, stdout: 'done' });
  }, 150_000);
});
