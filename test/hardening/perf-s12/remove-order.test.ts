// remove() "resolves when its in-flight calls have finished": the caller of a call on that client, ended
// early (its timeout, its caller's abort), has its answer before remove() resolves, as it had before the
// raced fast path and as the caller of a call that ends by its function's own answer has.
import { describe, expect, it, vi } from 'vitest';
import { useFakeTime } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';
import { advance, hang, jobs, poolOf } from './helpers.js';

useFakeTime();
vi.setConfig({ testTimeout: 10_000 });

describe('remove() and the calls in flight on the client it removes', () => {
  it('a timed call that times out: the caller sees ERR_TIMEOUT before remove() resolves', async () => {
    const pool = poolOf();
    const log: string[] = [];
    void pool.run(hang, { timeout: 10 }).catch((e: { code: string }) => log.push(e.code));
    await jobs();
    const removed = pool.remove('c0').then(() => log.push('removed'));
    await advance(10);
    await removed;
    expect(log).toEqual(['ERR_TIMEOUT', 'removed']);
  });

  it('a signalled call whose caller aborts: the caller sees ERR_ABORTED before remove() resolves', async () => {
    const pool = poolOf();
    const controller = new AbortController();
    const log: string[] = [];
    void pool.run(hang, { signal: controller.signal }).catch((e: { code: string }) => log.push(e.code));
    await jobs();
    const removed = pool.remove('c0').then(() => log.push('removed'));
    controller.abort('stop');
    await removed;
    expect(log).toEqual(['ERR_ABORTED', 'removed']);
  });

  it.each([
    ['a plain call', undefined],
    ['a timed call', { timeout: 100 }],
    ['a signalled call', { signal: new AbortController().signal }],
  ])('%s that fails by its function: the caller sees ERR_CLIENT_CALL before remove() resolves', async (_name, options) => {
    const pool = poolOf();
    const answer = deferred<string>();
    const log: string[] = [];
    void pool.run(() => answer.promise, options).catch((e: { code: string }) => log.push(e.code));
    await jobs();
    const removed = pool.remove('c0').then(() => log.push('removed'));
    answer.reject(new Error('x'));
    await removed;
    expect(log).toEqual(['ERR_CLIENT_CALL', 'removed']);
  });

  it.each([
    ['a plain call', undefined],
    ['a timed call', { timeout: 100 }],
  ])('%s that succeeds: the caller has its value before remove() resolves', async (_name, options) => {
    const pool = poolOf();
    const answer = deferred<string>();
    const log: string[] = [];
    void pool.run(() => answer.promise, options).then((v) => log.push(v));
    await jobs();
    const removed = pool.remove('c0').then(() => log.push('removed'));
    answer.resolve('v');
    await removed;
    expect(log).toEqual(['v', 'removed']);
  });
});
