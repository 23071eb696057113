import { createHash } from 'node:crypto';
import { evalScript, type RedisScriptClient } from './eval-script.js';

export type { RedisScriptClient } from './eval-script.js';

/**
 * The Lua that opens each script: `now`, the server's clock in microseconds (`TIME`, made replicable), or
 * the fake time in `ARGV[fakeArg]`, which exactness tests pass (the bucket itself never does).
 */
function serverNow(fakeArg: number): string {
  return `if redis.replicate_commands then redis.replicate_commands() end
local now
if ARGV[${fakeArg}] then
  now = tonumber(ARGV[${fakeArg}])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
`;
}

/**
 * The Lua that reads the bucket's value, `"<tat>|<fingerprint>"` (or a bare `"<tat>"`, as versions before
 * fingerprints wrote it, read with no fingerprint): `stored` is the TAT (0 when there is none), `theirs`
 * the fingerprint stored when it is not empty and differs from the caller's in `ARGV[fpArg]`, else `''`;
 * `suffix` is what to write after the TAT: the caller's own fingerprint, always; `refuse` when the caller
 * refuses another configuration (ARGV[fpArg + 1] is 1) and the key holds one: the script then changes nothing. One string value, not a
 * second key, so the script keeps to one key (one Redis Cluster slot).
 */
function readState(fpArg: number): string {
  return `local ours = ARGV[${fpArg}]
local value = redis.call('GET', KEYS[1])
local theirs = ''
local stored = 0
if value then
  local bar = string.find(value, '|', 1, true)
  if bar then
    theirs = string.sub(value, bar + 1)
    value = string.sub(value, 1, bar - 1)
  end
  stored = tonumber(value) or 0
  -- Lua reads 'nan' and 'inf' as numbers: no state at all, as any other garbage (the write repairs it).
  if stored ~= stored or stored == math.huge or stored == -math.huge then stored = 0 end
end
if theirs == ours then theirs = '' end
-- A caller that refuses another configuration leaves the key to it: nothing is taken or written.
local refuse = ARGV[${fpArg + 1}] == '1' and theirs ~= ''
local suffix = ''
if ours ~= '' then suffix = '|' .. ours end
`;
}

/**
 * Refill-and-take in one atomic step, GCRA style, on the server's clock.
 *
 * KEYS[1]  the bucket: its value is `"<tat>|<fingerprint>"`, the theoretical arrival time (TAT) in
 *          microseconds of server time and the settings of the process that wrote it last (a bare
 *          `"<tat>"` reads as a TAT with no fingerprint); it expires when the bucket would be full again,
 *          so an idle limit costs no memory.
 * ARGV[1]  interval: microseconds per token (1e6 / rate; may be fractional)
 * ARGV[2]  burst: bucket size in tokens
 * ARGV[3]  need: tokens the head of the caller's queue needs; nothing is taken unless these fit
 * ARGV[4]  demand: tokens the caller's queue wants in all (>= need); taken as far as they fit
 * ARGV[5]  extra: tokens to lease on top, taken only from what exceeds `keep`
 * ARGV[6]  keep: tokens a lease must leave in the bucket (the "more than enough" rule)
 * ARGV[7]  fingerprint: the caller's settings (`configFingerprint`, never containing `|`), written with
 *          the TAT whenever it is written; '' writes a bare TAT
 * ARGV[8]  1 when the caller refuses another configuration (`onMismatch: 'refuse'`): a key holding one is
 *          then left as it is, and the reply only reports it
 * ARGV[9]  optional fake time in microseconds, for exactness tests only; the bucket never sends it. On fake
 *          time the key gets no TTL: the server would count it down on its own clock.
 *
 * A stored value Lua reads as NaN or infinite ('nan', 'inf') is no state, as any garbage; a wait is
 * capped at 2^53 µs (another configuration may have left the TAT far ahead).
 *
 * Returns { granted, waitUs, theirs }: tokens taken (0, or need..demand+extra; `granted` as a %.17g string,
 * since Redis would truncate a fractional Lua number, and a cost may be fractional), when none were taken
 * the microseconds until `need` would fit, and the fingerprint found with the key when it was not empty
 * and differed from ARGV[7] ('' otherwise). need = 0 is a read-only probe (it reports `theirs` too).
 *
 * The TAT is written with %.17g: a microsecond timestamp has 16 digits, and Lua's own number-to-string
 * conversion keeps 14, so the exact digits must not depend on how a server version converts numbers.
 */
export const TOKEN_BUCKET_SCRIPT = `
${serverNow(9)}${readState(7)}if refuse then return {0, 0, theirs} end
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2]) * interval
local need = tonumber(ARGV[3])
local demand = tonumber(ARGV[4])
local extra = tonumber(ARGV[5])
local keep = tonumber(ARGV[6])
local tat = stored
if tat < now then tat = now end
if need <= 0 then return {0, 0, theirs} end
local slack = 1e-6
local wait = tat + need * interval - capacity - now
-- Capped at 2^53: Redis turns a Lua number into a 64-bit integer, and a wait past that would wrap negative.
if wait > slack then return {0, math.ceil(math.min(wait, 9007199254740992)), theirs} end
local free = math.floor((capacity - (tat - now)) / interval + slack)
local granted = math.max(need, math.min(demand, free))
if extra > 0 then
  local spare = math.floor(free - granted - keep + slack)
  if spare > 0 then granted = granted + math.min(extra, spare) end
end
tat = tat + granted * interval
if ARGV[9] then
  -- Fake time: a TTL counted on it would run out on the server's own clock, so none is set.
  redis.call('SET', KEYS[1], string.format('%.17g', tat) .. suffix)
else
  redis.call('SET', KEYS[1], string.format('%.17g', tat) .. suffix, 'PX', math.ceil((tat - now) / 1000) + 1)
end
return {string.format('%.17g', granted), 0, theirs}
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
  /** This process's `configFingerprint` (no `|`), stored with the state; '' or absent: none. */
  readonly fingerprint?: string;
  /** The caller refuses another configuration: a key holding one is left as it is. */
  readonly refuse?: boolean;
  /** Fake server time in microseconds (tests only). */
  readonly nowUs?: number;
}

/** The script's answer. */
export interface ScriptReply {
  readonly granted: number;
  readonly waitUs: number;
  /**
   * The fingerprint stored with the key by another configuration (not empty and not the caller's), found
   * before this run wrote the caller's own; undefined when there was none or it matched.
   */
  readonly theirs: string | undefined;
}

/**
 * Run the script by its SHA, loading it with EVAL when the server does not know it (`NOSCRIPT`: first use,
 * or a restarted or failed-over server). Rejects on any Redis error or a malformed reply.
 */
export async function runTokenBucketScript(client: RedisScriptClient, key: string, request: ScriptRequest): Promise<ScriptReply> {
  // String() gives the shortest text that reads back as the same double: a fractional interval stays exact.
  const args: (string | number)[] = [key, String(request.interval), String(request.burst), request.need, request.demand, request.extra, request.keep, request.fingerprint ?? '', request.refuse === true ? 1 : 0];
  if (request.nowUs !== undefined) args.push(request.nowUs);
  return parseReply(await evalScript(client, TOKEN_BUCKET_SCRIPT, TOKEN_BUCKET_SHA, args));
}

/**
 * Move a bucket's state by a settled cost, GCRA style, on the server's clock, in one atomic step.
 *
 * KEYS[1]  the bucket, as {@link TOKEN_BUCKET_SCRIPT} keeps it (`"<tat>|<fingerprint>"`, or a bare TAT)
 * ARGV[1]  interval: microseconds per token
 * ARGV[2]  burst: bucket size in tokens
 * ARGV[3]  n: tokens to charge (> 0: the TAT moves later, into debt if need be) or give back (< 0: it
 *          moves earlier, but never before now, so a refund never fills the bucket past `burst`)
 * ARGV[4]  maxDebt: microseconds of debt allowed (the TAT stays within now + burst·interval + maxDebt);
 *          a charge past it is cut there, and a TAT already past it (another configuration on the same
 *          key) is not pulled back by a charge
 * ARGV[5]  fingerprint: the caller's settings, written with the TAT as the take script writes it
 * ARGV[6]  1 when the caller refuses another configuration: a key holding one is left as it is
 * ARGV[7]  optional fake time in microseconds, for exactness tests only (no TTL then, as in the take script)
 *
 * Returns { movedUs, fullInUs, theirs }: as strings (%.17g, exact), how far the TAT actually moved
 * (negative for a refund; smaller than asked when cut at a full bucket or at `maxDebt`) and the
 * microseconds until the bucket is full again (over burst·interval: in debt); and the fingerprint found
 * with the key, as the take script reports it. A bucket left full is deleted, as an expired one is;
 * otherwise the key keeps its PX expiry at the moment it would be full again.
 */
export const ADJUST_SCRIPT = `
${serverNow(7)}${readState(5)}if refuse then return {'0', '0', theirs} end
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2]) * interval
local n = tonumber(ARGV[3])
local maxDebt = tonumber(ARGV[4])
local before = stored
if before < now then before = now end
local tat = before + n * interval
if tat < now then tat = now end
local ceiling = now + capacity + maxDebt
if tat > ceiling then tat = math.max(before, ceiling) end
if tat <= now then
  redis.call('DEL', KEYS[1])
elseif ARGV[7] then
  redis.call('SET', KEYS[1], string.format('%.17g', tat) .. suffix)
else
  redis.call('SET', KEYS[1], string.format('%.17g', tat) .. suffix, 'PX', math.ceil((tat - now) / 1000) + 1)
end
return {string.format('%.17g', tat - before), string.format('%.17g', tat - now), theirs}
`;

/** SHA-1 of {@link ADJUST_SCRIPT}, for EVALSHA. */
export const ADJUST_SHA = createHash('sha1').update(ADJUST_SCRIPT).digest('hex');

/** What one run of {@link ADJUST_SCRIPT} asks for. */
export interface AdjustRequest {
  /** Microseconds per token. */
  readonly interval: number;
  readonly burst: number;
  /** Tokens to charge (> 0) or give back (< 0); finite. */
  readonly n: number;
  /** Microseconds of debt allowed past an empty bucket. */
  readonly maxDebtUs: number;
  /** This process's `configFingerprint` (no `|`), stored with the state; '' or absent: none. */
  readonly fingerprint?: string;
  /** The caller refuses another configuration: a key holding one is left as it is. */
  readonly refuse?: boolean;
  /** Fake server time in microseconds (tests only). */
  readonly nowUs?: number;
}

/** {@link ADJUST_SCRIPT}'s answer, in microseconds. */
export interface AdjustReply {
  /** How far the state moved: > 0 charged, < 0 refunded, smaller than asked when cut. */
  readonly movedUs: number;
  /** Until the bucket is full again; more than burst·interval while in debt. */
  readonly fullInUs: number;
  /** Another configuration's fingerprint found with the key, as {@link ScriptReply.theirs}. */
  readonly theirs: string | undefined;
}

/** Run {@link ADJUST_SCRIPT} as {@link runTokenBucketScript} runs its own (EVALSHA, EVAL on `NOSCRIPT`). */
export async function runAdjustScript(client: RedisScriptClient, key: string, request: AdjustRequest): Promise<AdjustReply> {
  const args: (string | number)[] = [key, String(request.interval), String(request.burst), String(request.n), String(request.maxDebtUs), request.fingerprint ?? '', request.refuse === true ? 1 : 0];
  if (request.nowUs !== undefined) args.push(request.nowUs);
  const reply = await evalScript(client, ADJUST_SCRIPT, ADJUST_SHA, args);
  if (Array.isArray(reply) && (reply.length === 2 || reply.length === 3)) {
    const movedUs = Number(reply[0]);
    const fullInUs = Number(reply[1]);
    const theirs = fingerprintOf(reply[2]);
    if (Number.isFinite(movedUs) && Number.isFinite(fullInUs) && theirs !== null) return { movedUs, fullInUs, theirs };
  }
  throw new TypeError(`unexpected reply from the adjust script: ${JSON.stringify(reply)}`);
}

function parseReply(reply: unknown): ScriptReply {
  if (Array.isArray(reply) && (reply.length === 2 || reply.length === 3)) {
    const granted = Number(reply[0]);
    const waitUs = Number(reply[1]);
    const theirs = fingerprintOf(reply[2]);
    if (Number.isFinite(granted) && Number.isFinite(waitUs) && theirs !== null) return { granted, waitUs, theirs };
  }
  throw new TypeError(`unexpected reply from the token bucket script: ${JSON.stringify(reply)}`);
}

/** The reply's third element: undefined when absent (a client that answers two) or empty, the text otherwise; null when malformed. */
function fingerprintOf(element: unknown): string | undefined | null {
  if (element === undefined || element === '') return undefined;
  return typeof element === 'string' ? element : null;
}
