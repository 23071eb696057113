import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The deadline queue keeps its one timer between calls and lets it go once the loop turns with nothing
// queued (not on every call): a script whose timed calls are over must still exit. Checked in a child
// process; its time limit only catches the hang (the fault keeps the process for the 10-minute timeout),
// far above what a busy machine needs to start tsx.
describe('deadline queue: the process is not kept alive', () => {
  it('a script whose timed calls have settled exits without closing its pool', () => {
    const script = fileURLToPath(new URL('fixtures/timed-calls-exit.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 120_000 });
    expect({ status: child.status, signal: child.signal, stdout: child.stdout.trim() }).toEqual({ status: 0, signal: null, stdout: 'done' });
  }, 150_000);
});
