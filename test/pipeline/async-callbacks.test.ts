/* eslint-disable @typescript-eslint/no-misused-promises -- async callbacks where void ones are due: the misuse under test */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, hasErrorCode, type Breaker } from '../../src/index.js';
import { unhandledDuring } from '../helpers/unhandled.js';
import { recordWarnings } from '../helpers/warnings.js';

afterEach(() => {
  vi.restoreAllMocks();
});


const notFound = (): Promise<never> => Promise.reject(Object.assign(new Error('404'), { status: 404 }));

describe('an async predicate is a misused callback: the documented fallback, a warning, nothing unhandled', () => {
  it('isFailure returning a promise (always truthy) is warned of as a CallbackError; the fallback counts the failure', async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>({ isFailure: (async () => Promise.reject(new Error('isFailure blew up'))) as unknown as () => boolean });
    pool.add({});
    const unhandled = await unhandledDuring(async () => {
      const error = await pool.run(notFound).catch((e: unknown) => e);
      expect(hasErrorCode(error, 'ERR_CLIENT_CALL')).toBe(true);
    });
    expect(unhandled).toEqual([]);
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, failures: 1 });
    expect(warnings).toEqual([{ text: expect.stringContaining('isFailure failed') as string, code: 'CLIENTPOOL_CALLBACK_ERROR' }]);
    expect(warnings[0]!.text).toContain('CallbackError: isFailure returned a promise');
    await pool.close();
  });

  it('retryOn returning a promise does not retry (its fallback), and its rejection is handled', async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>();
    pool.add({});
    pool.add({});
    let attempts = 0;
    const unhandled = await unhandledDuring(async () => {
      await pool
        .run(
          () => {
            attempts++;
            return notFound();
          },
          { retry: { attempts: 3, backoff: { initial: 0, max: 0 }, retryOn: (async () => Promise.reject(new Error('retryOn blew up'))) as unknown as () => boolean } },
        )
        .catch(() => undefined);
    });
    expect(attempts).toBe(1);
    expect(unhandled).toEqual([]);
    expect(warnings.map((w) => w.code)).toEqual(['CLIENTPOOL_CALLBACK_ERROR']);
    expect(warnings[0]!.text).toContain('retry.retryOn returned a promise');
    await pool.close();
  });

  it('retryAfter returning a promise is no Retry-After: the retry goes on after its backoff, warned of', async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>();
    pool.add({});
    pool.add({});
    let attempts = 0;
    const value = await pool.run(
      () => (++attempts === 1 ? notFound() : 'ok'),
      { retry: { attempts: 2, backoff: { initial: 0, max: 0 }, retryAfter: (async () => 60_000) as unknown as () => number } },
    );
    expect(value).toBe('ok');
    expect(warnings.map((w) => w.text)).toEqual([expect.stringContaining('CallbackError: retry.retryAfter returned a promise')]);
    await pool.close();
  });
});

describe('an async void callback is not waited for, and its rejection is reported like a throw', () => {
  it('an async onStateChange listener that rejects: a CLIENTPOOL_LISTENER_ERROR warning, never an unhandled rejection', async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>({ breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.onStateChange(async (change) => Promise.reject(new Error(`pager down while reporting ${change.client}`)));
    pool.add({});
    const unhandled = await unhandledDuring(async () => {
      await pool.run(notFound).catch(() => undefined);
    });
    expect(unhandled).toEqual([]);
    expect(warnings).toEqual([{ text: 'clientpool: an event listener threw: Error: pager down while reporting client-1', code: 'CLIENTPOOL_LISTENER_ERROR' }]);
    await pool.close();
  });

  it('an async onRateLimit listener that rejects: reported, not unhandled', async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>({ maxWait: 0 });
    pool.add({}, { limit: { rate: 1, burst: 1 } });
    pool.onRateLimit(async () => Promise.reject(new Error('log failed')));
    const unhandled = await unhandledDuring(async () => {
      await pool.run(() => 1);
      await pool.run(() => 1).catch(() => undefined);
    });
    expect(unhandled).toEqual([]);
    expect(warnings.map((w) => w.code)).toEqual(['CLIENTPOOL_LISTENER_ERROR']);
    await pool.close();
  });

  it('an async onOutcome that rejects: a CLIENTPOOL_CALLBACK_ERROR warning naming the middleware', async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>();
    pool.add({});
    pool.use({ name: 'exporter', onOutcome: (async () => Promise.reject(new Error('export failed'))) });
    const unhandled = await unhandledDuring(async () => {
      await pool.run(() => 1);
    });
    expect(unhandled).toEqual([]);
    expect(warnings.map((w) => w.text)).toEqual(['clientpool: middleware "exporter" onOutcome failed (reported once per pool): Error: export failed']);
    await pool.close();
  });

  it('an async attach that rejects: reported, not unhandled', async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>();
    const unhandled = await unhandledDuring(async () => {
      pool.use({ name: 'm', onOutcome() {}, attach: (async () => Promise.reject(new Error('attach failed'))) });
      await Promise.resolve();
    });
    expect(unhandled).toEqual([]);
    expect(warnings.map((w) => w.text)).toEqual(['clientpool: middleware "m" attach failed (reported once per pool): Error: attach failed']);
    await pool.close();
  });

  it("an async onHealthChange listener that rejects: reported, not unhandled", async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>({ healthCheck: { check: () => Promise.reject(new Error('down')), unhealthyThreshold: 1, interval: 60_000 } });
    pool.add({});
    pool.onHealthChange(async () => Promise.reject(new Error('dashboard down')));
    const unhandled = await unhandledDuring(() => pool.checkHealth());
    expect(unhandled).toEqual([]);
    expect(warnings.map((w) => w.code)).toEqual(['CLIENTPOOL_LISTENER_ERROR']);
    await pool.close();
  });

  it("a breaker of one's own with async methods: its rejections reported, an async acquire() admits the call", async () => {
    const warnings = recordWarnings();
    const breaker = (): Breaker => ({
      state: { kind: 'closed' },
      acquire: (async () => Promise.reject(new Error('acquire'))) as unknown as Breaker['acquire'],
      canAcquire: () => true,
      success: async () => Promise.reject(new Error('success')),
      failure() {},
      release() {},
    });
    const pool = new ClientPool<object>({ breaker });
    pool.add({});
    const unhandled = await unhandledDuring(async () => {
      expect(await pool.run(() => 'v')).toBe('v');
    });
    expect(unhandled).toEqual([]);
    expect(warnings.map((w) => w.text.split(':').slice(0, 2).join(':'))).toEqual(["clientpool: the breaker's acquire() failed (reported once per pool)", "clientpool: the breaker's success() failed (reported once per pool)"]);
    await pool.close();
  });
});
