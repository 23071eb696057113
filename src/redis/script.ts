import { createHash } from 'node:crypto';

/**
 * The two Redis commands the bucket needs. An ioredis `Redis` or `Cluster` fits as is; for node-redis,
 * adapt `client.evalSha(sha, { keys, arguments })` and `client.eval(script, { keys, arguments })` (see
 * docs/redis.md). Replies are read as numbers or numeric strings, so ioredis `stringNumbers` is fine too.
 */
export interface RedisScriptClient {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/**
 * Refill-and-take in one atomic step, GCRA style, on the server's clock.
 *
 * KEYS[1]  the bucket: its value is the theoretical arrival time (TAT) in microseconds of server time,
 *          and it expires when the bucket would be full again, so an idle limit costs no memory.
 * ARGV[1]  interval: microseconds per token (1e6 / rate; may be fractional)
 * ARGV[2]  burst: bucket size in tokens
 * ARGV[3]  need: tokens the head of the caller's queue needs; nothing is taken unless these fit
 * ARGV[4]  demand: tokens the caller's queue wants in all (>= need); taken as far as they fit
 * ARGV[5]  extra: tokens to lease on top, taken only from what exceeds `keep`
 * ARGV[6]  keep: tokens a lease must leave in the bucket (the "more than enough" rule)
 * ARGV[7]  optional fake time in microseconds, for exactness tests only; the bucket never sends it. On fake
 *          time the key gets no TTL: the server would count it down on its own clock.
 *
 * Returns { granted, waitUs }: tokens taken (0, or need..demand+extra), and when none were taken, the
 * microseconds until `need` would fit. need = 0 is a read-only probe.
 *
 * The TAT is written with %.17g: a microsecond timestamp has 16 digits, and Lua's own number-to-string
 * conversion keeps 14, so the exact digits must not depend on how a server version converts numbers.
 */
export const TOKEN_BUCKET_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local now
if ARGV[7] then
  now = tonumber(ARGV[7])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2]) * interval
local need = tonumber(ARGV[3])
local demand = tonumber(ARGV[4])
local extra = tonumber(ARGV[5])
local keep = tonumber(ARGV[6])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
if need <= 0 then return {0, 0} end
local slack = 1e-6
local wait = tat + need * interval - capacity - now
if wait > slack then return {0, math.ceil(wait)} end
local free = math.floor((capacity - (tat - now)) / interval + slack)
local granted = math.max(need, math.min(demand, free))
if extra > 0 then
  local spare = math.floor(free - granted - keep + slack)
  if spare > 0 then granted = granted + math.min(extra, spare) end
end
tat = tat + granted * interval
if ARGV[7] then
  -- Fake time: a TTL counted on it would run out on the server's own clock, so none is set.
  redis.call('SET', KEYS[1], string.format('%.17g', tat))
else
  redis.call('SET', KEYS[1], string.format('%.17g', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
end
return {granted, 0}
`;

/** SHA-1 of {@link TOKEN_BUCKET_SCRIPT}, for EVALSHA. */
export const TOKEN_BUCKET_SHA = createHash('sha1').update(TOKEN_BUCKET_SCRIPT).digest('hex');

/** What one run of the script asks for. */
export interface ScriptRequest {
  /** Microseconds per token. */
  readonly interval: number;
  readonly burst: number;
  readonly need: number;
  readonly demand: number;
  readonly extra: number;
  readonly keep: number;
  /** Fake server time in microseconds (tests only). */
  readonly nowUs?: number;
}

/** The script's answer. */
export interface ScriptReply {
  readonly granted: number;
  readonly waitUs: number;
}

/**
 * Run the script by its SHA, loading it with EVAL when the server does not know it (`NOSCRIPT`: first use,
 * or a restarted or failed-over server). Rejects on any Redis error or a malformed reply.
 */
export async function runTokenBucketScript(client: RedisScriptClient, key: string, request: ScriptRequest): Promise<ScriptReply> {
  // String() gives the shortest text that reads back as the same double: a fractional interval stays exact.
  const args: (string | number)[] = [key, String(request.interval), String(request.burst), request.need, request.demand, request.extra, request.keep];
  if (request.nowUs !== undefined) args.push(request.nowUs);
  let reply: unknown;
  try {
    reply = await client.evalsha(TOKEN_BUCKET_SHA, 1, ...args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    reply = await client.eval(TOKEN_BUCKET_SCRIPT, 1, ...args);
  }
  return parseReply(reply);
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function parseReply(reply: unknown): ScriptReply {
  if (Array.isArray(reply) && reply.length === 2) {
    const granted = Number(reply[0]);
    const waitUs = Number(reply[1]);
    if (Number.isFinite(granted) && Number.isFinite(waitUs)) return { granted, waitUs };
  }
  throw new TypeError(`unexpected reply from the token bucket script: ${JSON.stringify(reply)}`);
}
