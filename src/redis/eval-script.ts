import { InvalidOptionError } from '../errors.js';

/**
 * The two Redis commands the bucket and the fleet need. An ioredis `Redis` or `Cluster` fits as is; for
 * node-redis, adapt `client.evalSha(sha, { keys, arguments })` and `client.eval(script, { keys, arguments })`
 * (see docs/redis.md). Replies are read as numbers or numeric strings, so ioredis `stringNumbers` is fine too.
 */
export interface RedisScriptClient {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/**
 * Run a one-key script by its SHA, loading it with EVAL when the server does not know it (`NOSCRIPT`: first
 * use, or a restarted or failed-over server). `args` starts with the key.
 */
export async function evalScript(client: RedisScriptClient, script: string, sha: string, args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(sha, 1, ...args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return client.eval(script, 1, ...args);
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** The `redis` option: a client with `evalsha()` and `eval()`. @throws InvalidOptionError for anything else. */
export function scriptClient(value: unknown): RedisScriptClient {
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError('redis', 'a Redis client with evalsha() and eval() (ioredis)', value);
  const client = value as Partial<Record<'evalsha' | 'eval', unknown>>;
  if (typeof client.evalsha !== 'function' || typeof client.eval !== 'function') {
    throw new InvalidOptionError('redis', 'a Redis client with evalsha() and eval() (ioredis)', value);
  }
  return value as RedisScriptClient;
}
