import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { HealthChecker, type HealthCheckOptions, type HealthTarget } from '../../src/health/health-checker.js';
import { MAX_DURATION_MS } from '../../src/validate.js';

interface Member {
  readonly name: string;
}

/** A pool stand-in holding one member `a`, recording every setDown. */
class Target implements HealthTarget<string, Member> {
  readonly member: Member = { name: 'a' };
  readonly changes: boolean[] = [];
  #isDown = false;
  members(): Member[] {
    return [this.member];
  }
  clientOf(member: Member): string {
    return member.name;
  }
  isDown(): boolean {
    return this.#isDown;
  }
  setDown(_member: Member, isDown: boolean): void {
    this.#isDown = isDown;
    this.changes.push(isDown);
  }
}

const INTERVAL = 1_000;
const TIMEOUT = 100;

function checker(check: HealthCheckOptions<string>['check'], options: Partial<HealthCheckOptions<string>> = {}): { health: HealthChecker<string, Member>; target: Target } {
  const target = new Target();
  const health = new HealthChecker<string, Member>({ check, interval: INTERVAL, timeout: TIMEOUT, unhealthyThreshold: 1, healthyThreshold: 1, ...options }, target);
  return { health, target };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('HealthChecker with misbehaving checks', () => {
  it('a check that throws synchronously fails, and the checker goes on checking', async () => {
    let isBroken = true;
    const { health, target } = checker(() => {
      if (isBroken) throw new Error('sync');
      return 'ok';
    });
    health.start();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(target.changes).toEqual([true]);
    isBroken = false;
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(target.changes).toEqual([true, false]);
    health.stop();
  });

  it.each([
    ['a plain value', 42],
    ['undefined', undefined],
  ])('a check returning %s passes, and its timeout timer is cleared', async (_label, value) => {
    const { health, target } = checker(() => value);
    target.setDown(target.member, true);
    await health.checkAll();
    expect(target.changes).toEqual([true, false]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a thenable that never settles fails at the timeout and leaves no timer', async () => {
    const { health, target } = checker(() => ({ then: () => undefined }));
    const round = health.checkAll();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    await round;
    expect(target.changes).toEqual([true]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a thenable whose then() throws fails', async () => {
    const { health, target } = checker(() => ({
      then(): never {
        throw new Error('then');
      },
    }));
    await health.checkAll();
    expect(target.changes).toEqual([true]);
  });

  it('a check that ignores its signal fails at the timeout, and its late success counts for nothing', async () => {
    let pass: (value: unknown) => void = () => undefined;
    const { health, target } = checker(() => new Promise((resolve) => (pass = resolve)));
    const round = health.checkAll();
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    await round;
    expect(target.changes).toEqual([true]);
    pass('late');
    await vi.advanceTimersByTimeAsync(0);
    expect(target.changes).toEqual([true]);
  });

  it('a check that rejects after its timeout leaves no unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      let fail: (error: Error) => void = () => undefined;
      const { health } = checker(() => new Promise((_resolve, reject) => (fail = reject)));
      const round = health.checkAll();
      await vi.advanceTimersByTimeAsync(TIMEOUT);
      await round;
      fail(new Error('late'));
      vi.useRealTimers();
      // Node reports unhandled rejections once the microtask queue is empty: a macrotask later.
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('HealthChecker start and stop', () => {
  it('stop() leaves no timer, even with a check in flight', async () => {
    const { health } = checker(() => new Promise(() => undefined));
    health.start();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(vi.getTimerCount()).toBe(2);
    health.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a check that stop() aborted gives no verdict, even when the checker starts again at once', async () => {
    const { health, target } = checker(() => new Promise(() => undefined));
    health.start();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    health.stop();
    health.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(target.changes).toEqual([]);
    health.stop();
  });

  it('a check whose round stop() ended before it began is not called', async () => {
    const check = vi.fn(() => 'ok');
    const { health } = checker(check);
    const round = health.checkAll();
    health.stop();
    await round;
    expect(check).not.toHaveBeenCalled();
  });

  it('aborts the signal of a check in flight on stop()', async () => {
    let signal: AbortSignal | undefined;
    const { health } = checker((_client, s) => {
      signal = s;
      return new Promise(() => undefined);
    });
    const round = health.checkAll();
    await vi.advanceTimersByTimeAsync(0);
    health.stop();
    await round;
    expect(signal?.aborted).toBe(true);
  });

  it('unrefs its timers, so that they never keep the process alive', async () => {
    const setInterval = vi.spyOn(globalThis, 'setInterval');
    const setTimeout = vi.spyOn(globalThis, 'setTimeout');
    const { health } = checker(() => new Promise(() => undefined));
    health.start();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    const timers = [...setInterval.mock.results, ...setTimeout.mock.results].map((r) => r.value as NodeJS.Timeout);
    expect(timers).toHaveLength(2);
    expect(timers.map((t) => t.hasRef())).toEqual([false, false]);
    health.stop();
  });
});

describe('HealthChecker options', () => {
  it('accepts an interval and a timeout of 2^31-1 ms', () => {
    expect(() => checker(() => 'ok', { interval: MAX_DURATION_MS, timeout: MAX_DURATION_MS })).not.toThrow();
  });

  it.each(['interval', 'timeout'] as const)('refuses healthCheck.%s above 2^31-1 ms, the longest Node timer', (option) => {
    const create = (): unknown => checker(() => 'ok', { [option]: MAX_DURATION_MS + 1 });
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(`healthCheck.${option} must be a duration in ms > 0 and <= ${MAX_DURATION_MS}, got ${MAX_DURATION_MS + 1}`);
  });
});
