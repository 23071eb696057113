import { createHash } from 'node:crypto';
import { evalScript, type RedisScriptClient } from './eval-script.js';

/**
 * The fleet's state lives in one Redis hash (`KEYS[1]`, the fleet's key), so that every script touches one
 * key: atomic, and one slot in a Redis Cluster. Times are the server's clock in ms (`TIME`), so processes
 * whose clocks differ agree; what a script returns is relative to its `now`. Fields, per client `<c>`:
 *
 *   o:<c>   the client is open fleet-wide: `<until>|<trips>|<at>` (kept after `until`: then it is
 *           half-open fleet-wide, until a probe closes it or reopens it)
 *   v:<c>   votes for opening it, under a quorum: `<process>=<expiry>,...`
 *   l:<c>   the half-open probe lease: `<process>|<expiry>`
 *   p:<c>   a pause: `<until>|<at>`
 *   h:<c>   the health prober's verdict: `<1 down, 0 up>|<at>` (forgotten once nobody probes the client's health)
 *   ch:<c>  the health prober's lease: `<process>|<expiry>`
 *   cp:<c>  the height poller's lease: `<process>|<expiry>`
 *   ht:<c>  the highest height reported: `<height>|<at>`, `at` the last sync that sent one (forgotten an
 *           idle hour after: no process has the client any more)
 *   cfg     the fingerprint of the last process that synced (a mismatch is reported)
 *
 * `<at>` is when the value was written: a reader's `now - at` is the propagation lag.
 */
const PREAMBLE = `if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
local function lease(field)
  local v = redis.call('HGET', key, field)
  if not v then return nil, 0 end
  local holder, expiry = string.match(v, '^(.*)|(%d+)$')
  return holder, tonumber(expiry) or 0
end
local function first(v)
  return tonumber(string.match(v or '', '^(%d+)|')) or 0
end
local function last(v)
  return tonumber(string.match(v or '', '|(%d+)$')) or 0
end
`;

/**
 * Report what this process saw of one client, and answer with the state it left.
 *
 * ARGV[1] kind: `open` (a vote, and the opening once `quorum` processes agree, or at once when it is
 *         open fleet-wide already: a failed probe reopens it; this process's probe lease is given back), `close` (its probes succeeded: the opening, the votes and the lease go),
 *         `pause`, `health` (ARGV[4] is 1 down or 0 up), `lease` (ask for the probe lease for ARGV[4] ms),
 *         `release` (give back this process's probe lease)
 * ARGV[2] client  ARGV[3] process  ARGV[4] ms (or the health verdict)  ARGV[5] trips  ARGV[6] quorum
 * ARGV[7] ms the hash lives unused
 *
 * Returns { now, value, granted, waitMs }: the `o:` value after an `open` or a `lease` ('' when not open
 * fleet-wide), the `p:` value after a `pause`; for `lease`, granted is 1 (yours for ARGV[4] ms), 0 (another
 * process holds it for waitMs more, or the opening still cools for waitMs) or 2 (not open fleet-wide:
 * probe as you like).
 */
export const REPORT_SCRIPT = `${PREAMBLE}local kind, client, proc = ARGV[1], ARGV[2], ARGV[3]
local ms = math.ceil(tonumber(ARGV[4]) or 0)
local result = {now, '', 0, 0}
if kind == 'open' then
  local kept = {}
  local count = 1
  for p, e in string.gmatch(redis.call('HGET', key, 'v:' .. client) or '', '([^,=]+)=(%d+)') do
    if p ~= proc and tonumber(e) > now then
      table.insert(kept, p .. '=' .. e)
      count = count + 1
    end
  end
  table.insert(kept, proc .. '=' .. (now + ms))
  redis.call('HSET', key, 'v:' .. client, table.concat(kept, ','))
  local holder = lease('l:' .. client)
  if holder == proc then redis.call('HDEL', key, 'l:' .. client) end
  local o = redis.call('HGET', key, 'o:' .. client)
  -- Open fleet-wide already: a reopening (a probe failed) needs no new quorum.
  if o or count >= tonumber(ARGV[6]) then
    local untilMs = math.max(now + ms, first(o))
    o = untilMs .. '|' .. ARGV[5] .. '|' .. now
    redis.call('HSET', key, 'o:' .. client, o)
  end
  result[2] = o or ''
elseif kind == 'close' then
  redis.call('HDEL', key, 'o:' .. client, 'v:' .. client, 'l:' .. client)
elseif kind == 'pause' then
  local v = math.max(now + ms, first(redis.call('HGET', key, 'p:' .. client))) .. '|' .. now
  redis.call('HSET', key, 'p:' .. client, v)
  result[2] = v
elseif kind == 'health' then
  redis.call('HSET', key, 'h:' .. client, ARGV[4] .. '|' .. now)
elseif kind == 'release' then
  if lease('l:' .. client) == proc then redis.call('HDEL', key, 'l:' .. client) end
elseif kind == 'lease' then
  local o = redis.call('HGET', key, 'o:' .. client)
  if not o then
    result[3] = 2
  else
    result[2] = o
    local holder, expiry = lease('l:' .. client)
    if first(o) > now then
      -- Still cooling (reopened since the asker's last sync): nobody probes before it ends.
      result[4] = first(o) - now
    elseif holder == nil or expiry <= now or holder == proc then
      redis.call('HSET', key, 'l:' .. client, proc .. '|' .. (now + ms))
      result[3] = 1
      result[4] = ms
    else
      result[4] = expiry - now
    end
  end
end
redis.call('PEXPIRE', key, ARGV[7])
return result
`;

/**
 * One sync: write this process's fingerprint (answering another's, if it differs), claim or renew the
 * prober's leases (health checks, height polls) of each client it asks for, raise heights, drop what
 * expired, and answer with the fleet's view.
 *
 * ARGV[1] process  ARGV[2] fingerprint  ARGV[3] prober lease ms  ARGV[4] ms the hash lives unused
 * ARGV[5] ms an opening (or a height) is kept with nobody probing or reporting it (then forgotten)
 * ARGV[6..] quadruples: client, height ('' for none), 1 to claim its health prober's lease (0 not to),
 *         1 to claim its height poller's lease (0 not to)
 *
 * Returns { now, theirs, health, height, fields }: `theirs` another fingerprint found ('' if the same or
 * none), the clients whose health prober and height poller this process is, and the o:, l:, p:, h: and
 * ht: fields with their values.
 */
export const SYNC_SCRIPT = `${PREAMBLE}local proc = ARGV[1]
local checkMs = math.ceil(tonumber(ARGV[3]))
local stale = tonumber(ARGV[5])
local cfg = redis.call('HGET', key, 'cfg')
local theirs = ''
if cfg and cfg ~= ARGV[2] then theirs = cfg end
redis.call('HSET', key, 'cfg', ARGV[2])
local function claim(field)
  local holder, expiry = lease(field)
  if holder == nil or expiry <= now or holder == proc then
    redis.call('HSET', key, field, proc .. '|' .. (now + checkMs))
    return true
  end
  return false
end
local health, polls = {}, {}
for i = 6, #ARGV - 3, 4 do
  local client, height = ARGV[i], ARGV[i + 1]
  if ARGV[i + 2] == '1' and claim('ch:' .. client) then table.insert(health, client) end
  if ARGV[i + 3] == '1' and claim('cp:' .. client) then table.insert(polls, client) end
  if height ~= '' then
    local stored = first(redis.call('HGET', key, 'ht:' .. client))
    redis.call('HSET', key, 'ht:' .. client, string.format('%d', math.max(stored, tonumber(height) or 0)) .. '|' .. now)
  end
end
local all = redis.call('HGETALL', key)
local fields = {}
for j = 1, #all, 2 do
  local f, v = all[j], all[j + 1]
  local kind = string.match(f, '^(%a+):')
  local keep = true
  if kind == 'p' then keep = first(v) > now
  elseif kind == 'o' then keep = first(v) + stale > now
  elseif kind == 'l' or kind == 'ch' or kind == 'cp' then keep = last(v) > now
  elseif kind == 'h' then keep = last(redis.call('HGET', key, 'c' .. f)) > now
  elseif kind == 'ht' then keep = last(v) + stale > now
  elseif kind == 'v' then
    keep = false
    for e in string.gmatch(v, '=(%d+)') do if tonumber(e) > now then keep = true end end
  end
  if not keep then
    redis.call('HDEL', key, f)
  elseif kind == 'o' or kind == 'p' or kind == 'h' or kind == 'ht' or kind == 'l' then
    table.insert(fields, f)
    table.insert(fields, v)
  end
end
redis.call('PEXPIRE', key, ARGV[4])
return {now, theirs, health, polls, fields}
`;

const REPORT_SHA = createHash('sha1').update(REPORT_SCRIPT).digest('hex');
const SYNC_SHA = createHash('sha1').update(SYNC_SCRIPT).digest('hex');

/** What a report is about. */
export type ReportKind = 'open' | 'close' | 'pause' | 'health' | 'lease' | 'release';

/** {@link REPORT_SCRIPT}'s answer. */
export interface ReportReply {
  /** Server time, ms. */
  readonly now: number;
  readonly value: string;
  readonly granted: 0 | 1 | 2;
  readonly waitMs: number;
}

/** {@link SYNC_SCRIPT}'s answer. */
export interface SyncReply {
  readonly now: number;
  readonly theirs: string;
  /** Clients whose health prober this process is. */
  readonly health: readonly string[];
  /** Clients whose height poller this process is. */
  readonly height: readonly string[];
  /** Field → value, for o:, l:, p:, h: and ht: fields. */
  readonly fields: ReadonlyMap<string, string>;
}

/** Run {@link REPORT_SCRIPT}. Rejects on a Redis error or a malformed reply. */
export async function runReport(client: RedisScriptClient, key: string, args: readonly (string | number)[]): Promise<ReportReply> {
  const reply = await evalScript(client, REPORT_SCRIPT, REPORT_SHA, [key, ...args]);
  if (Array.isArray(reply) && reply.length === 4) {
    const now = Number(reply[0]);
    const granted = Number(reply[2]);
    const waitMs = Number(reply[3]);
    if (Number.isFinite(now) && typeof reply[1] === 'string' && (granted === 0 || granted === 1 || granted === 2) && Number.isFinite(waitMs)) {
      return { now, value: reply[1], granted, waitMs };
    }
  }
  throw new TypeError(`unexpected reply from the fleet's report script: ${safeJson(reply)}`);
}

/** Run {@link SYNC_SCRIPT}. Rejects on a Redis error or a malformed reply. */
export async function runSync(client: RedisScriptClient, key: string, args: readonly (string | number)[]): Promise<SyncReply> {
  const reply = await evalScript(client, SYNC_SCRIPT, SYNC_SHA, [key, ...args]);
  if (Array.isArray(reply) && reply.length === 5 && typeof reply[1] === 'string' && isStrings(reply[2]) && isStrings(reply[3]) && isStrings(reply[4])) {
    const now = Number(reply[0]);
    const flat = reply[4];
    if (Number.isFinite(now) && flat.length % 2 === 0) {
      const fields = new Map<string, string>();
      for (let i = 0; i < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
      return { now, theirs: reply[1], health: reply[2], height: reply[3], fields };
    }
  }
  throw new TypeError(`unexpected reply from the fleet's sync script: ${safeJson(reply)}`);
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return '(unreadable reply)';
  }
}
