import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CandidateProcess } from '../../bench/isolated.js';

/**
 * A child whose IPC channel is already broken, as Node's own is when the child exits between the parent's
 * last read and its next write: `send` fails with EPIPE, through its callback when given one and otherwise
 * as an 'error' event (which, unheard, is an uncaught exception of the parent). It exits when killed.
 */
class BrokenChannelChild extends EventEmitter {
  exitCode: number | null = null;
  connected = true;
  killed = false;

  send(_message: unknown, callback?: (error: Error | null) => void): boolean {
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    queueMicrotask(() => (callback === undefined ? this.emit('error', epipe) : callback(epipe)));
    return false;
  }

  kill(): boolean {
    this.killed = true;
    setImmediate(() => {
      this.exitCode = 1;
      this.connected = false;
      this.emit('exit', 1, null);
    });
    return true;
  }
}

const processOn = (child: BrokenChannelChild): CandidateProcess => new CandidateProcess('broken', 0, child as unknown as ChildProcess);

describe('a candidate process whose channel broke', () => {
  it('closes by stopping the child and waiting for its exit, with nothing uncaught (CI once died of EPIPE here)', async () => {
    const child = new BrokenChannelChild();
    await processOn(child).close();
    expect(child.killed).toBe(true);
    expect(child.exitCode).toBe(1);
  });

  it('fails a measurement it could not ask for, naming the candidate, instead of waiting forever', async () => {
    const child = new BrokenChannelChild();
    await expect(processOn(child).time(10)).rejects.toThrow(/candidate "broken": the process of "broken" could not be asked: write EPIPE/);
  });

  it("fails a pending measurement when the child reports an 'error'", async () => {
    const child = new BrokenChannelChild();
    const measured = processOn(child).ready();
    child.emit('error', new Error('spawn failed'));
    await expect(measured).rejects.toThrow(/the process of "broken" failed: spawn failed/);
  });
});
