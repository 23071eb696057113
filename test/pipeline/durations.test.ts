import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../src/index.js';

const THIRTY_DAYS = 30 * 24 * 3_600_000;
const a = { id: 'a' };

describe('durations above 2^31-1 ms are refused, never shortened', () => {
  it.each([
    ['pool timeout', () => new ClientPool({ timeout: THIRTY_DAYS })],
    ['pool maxWait', () => new ClientPool({ maxWait: THIRTY_DAYS })],
    ['hedge delay', () => new ClientPool({ hedge: { delay: THIRTY_DAYS } })],
    ['breaker cooldown', () => new ClientPool({ breaker: { cooldown: THIRTY_DAYS } })],
    ['health interval', () => new ClientPool({ healthCheck: { check: () => true, interval: THIRTY_DAYS } })],
    ['health timeout', () => new ClientPool({ healthCheck: { check: () => true, timeout: THIRTY_DAYS } })],
    ['method timeout', () => new ClientPool({ methods: { get: { timeout: THIRTY_DAYS } } })],
    ['slow start window', () => new ClientPool({ slowStart: { window: THIRTY_DAYS } })],
  ])('%s of 30 days throws InvalidOptionError', (_name, make) => {
    expect(make).toThrow(InvalidOptionError);
  });

  it('a call timeout of 30 days is refused at the call', async () => {
    const pool = new ClientPool<typeof a>();
    pool.add(a);
    await expect(pool.run(() => 1, { timeout: THIRTY_DAYS })).rejects.toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('a timeout of 2^31-1 ms is honoured as given: a 20 ms call is not timed out', async () => {
    const pool = new ClientPool<typeof a>();
    pool.add(a);
    await expect(pool.run(() => new Promise((resolve) => setTimeout(() => resolve('done'), 20)), { timeout: 2 ** 31 - 1 })).resolves.toBe('done');
    await pool.close();
  });

  it('pauseClient above 2^31-1 ms is refused', async () => {
    const pool = new ClientPool<typeof a>();
    pool.add(a);
    const error = await pool.run((_client, call) => call.pauseClient(THIRTY_DAYS)).catch((e: unknown) => e);
    expect((error as Error).cause ?? error).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });
});

describe('a clock that steps back does not lock clients out', () => {
  it('an open client is tried again one cooldown after the clock stepped back an hour', async () => {
    const clock = { time: 10 * 3_600_000, now(): number { return this.time; } };
    const pool = new ClientPool<{ id: string }>({ clock, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.add({ id: 'a' });
    await pool.run(() => Promise.reject(new Error('opens it'))).catch(() => undefined);
    expect(pool.members()[0]!.state.kind).toBe('open');
    clock.time -= 3_600_000;
    await expect(pool.run(() => 'too soon')).rejects.toMatchObject({ code: 'ERR_ALL_CIRCUITS_OPEN' });
    clock.time += 1_000;
    await expect(pool.run(() => 'probed')).resolves.toBe('probed');
    expect(pool.members()[0]!.state.kind).toBe('closed');
    await pool.close();
  });

  it('a paused client keeps only what was left of its pause after the clock stepped back', async () => {
    const clock = { time: 10 * 3_600_000, now(): number { return this.time; } };
    const pool = new ClientPool<{ id: string }>({ clock, maxWait: 0 });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b' });
    await pool.run((_client, call) => call.pauseClient(500));
    await pool.run((client, call) => call.pauseClient(500));
    clock.time -= 3_600_000;
    await expect(pool.run(() => 'paused')).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    clock.time += 600;
    await expect(pool.run(() => 'back')).resolves.toBe('back');
    await pool.close();
  });
});
