import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type RunOptions } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';

// Probe (passes): sub-millisecond and extreme durations (timeout 1e-9, deadline Number.MIN_VALUE, a hedge
// delay of 1e-6 ms, backoffs of 1e-9 ms, 2^31-1 for both) with and without a pass-through around hook,
// fn honouring call.signal. A manual clock moved with the fake timers. The same error with the hook as
// without, within 5 ms; the 2^31-1 call still pending (as it should), ended by destroy().

const CASES: [RunOptions<string>, string][] = [
  [{ timeout: 1e-9 }, 'TimeoutError'],
  [{ deadline: 1e-9 }, 'DeadlineExceededError'],
  [{ deadline: 0.5, timeout: 0.25 }, 'TimeoutError'],
  [{ hedge: { delay: 1e-6 }, timeout: 0.3 }, 'TimeoutError'],
  [{ retry: { attempts: 3, backoff: { initial: 1e-9, max: 1e-9 } }, deadline: 0.9 }, 'DeadlineExceededError'],
  [{ deadline: Number.MIN_VALUE }, 'DeadlineExceededError'],
  [{ timeout: 2 ** 31 - 1, deadline: 2 ** 31 - 1 }, 'pending'],
];

describe('tiny and extreme durations, with and without a hook', () => {
  for (const [options, expected] of CASES) for (const hooked of [false, true]) {
    it(`${JSON.stringify(options)} hook=${hooked}`, async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      try {
        let t = 0;
        const pool = new ClientPool<string>({ clock: { now: () => t }, retryBudget: false });
        if (hooked) pool.use({ name: 'h', around: (_s, n) => n() });
        pool.add('a');
        pool.add('b');
        const seen = state(pool.run((_c, call) => new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('x')))), options));
        for (let i = 0; i < 5; i++) {
          t += 1;
          await vi.advanceTimersByTimeAsync(1);
        }
        await turns(3);
        const s = seen();
        if (expected === 'pending') expect(s).toBe('pending');
        else expect(s !== 'pending' && !s.ok ? (s.value as object).constructor.name : s).toBe(expected);
        await pool.destroy();
        await turns(3);
        expect(seen()).not.toBe('pending');
        expect(vi.getTimerCount()).toBe(0);
      } finally {
        vi.useRealTimers();
      }
    });
  }
});
