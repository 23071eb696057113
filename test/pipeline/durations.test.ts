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
