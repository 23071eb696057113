import { LATENCY_MEDIAN_MS, LATENCY_SIGMA } from './backend.js';
import { KNEE, KNEE_RATE, LIMIT_RANGE, OVERLOAD_CONFIGURATIONS, PHASES, WINDOW_MS, type OverloadResult } from './overload.js';
import { COST_RANGE, KEYS, QUOTA_CONFIGURATIONS, QUOTA_LATENCY_MEDIAN_MS, USAGE_RANGE, type QuotaResult } from './quotas.js';
import { ms, percent } from './report.js';

/** Issue 15: under 4x offered load the admitted calls' p99 stays within this factor of the unloaded p99. */
export const TARGET_OVERLOAD_P99_FACTOR = 2;
/** Issue 15: once the load drops, the limit is back in range within this many windows. */
export const TARGET_RECOVERY_WINDOWS = 5;

/** How one capped configuration fares against the overload targets of issue 15. */
export interface OverloadCheck {
  readonly configuration: string;
  readonly isSettled: boolean;
  readonly isP99Met: boolean;
  readonly isFailFast: boolean;
  readonly isRecovered: boolean;
}

const check = (isMet: boolean): string => (isMet ? '✅ met' : '❌ not met');
const label = (id: string): string => OVERLOAD_CONFIGURATIONS.find((c) => c.id === id)?.label ?? QUOTA_CONFIGURATIONS.find((c) => c.id === id)?.label ?? id;
const range = `[${LIMIT_RANGE[0]}, ${LIMIT_RANGE[1]}]`;

/** The overload targets per configuration; the uncapped one is checked for p99 only (it has no limit). */
export function overloadChecks(results: readonly OverloadResult[]): OverloadCheck[] {
  return results.map((r) => ({
    configuration: r.configuration,
    isSettled: r.limitMedian !== undefined && r.limitMedian >= LIMIT_RANGE[0] && r.limitMedian <= LIMIT_RANGE[1],
    isP99Met: r.admittedP99 <= TARGET_OVERLOAD_P99_FACTOR * r.unloadedP99,
    // Refused before a call would have been answered: within the unloaded median.
    isFailFast: r.failedFast > 0 && r.failFastMax <= r.unloadedP50,
    isRecovered: r.recoveryWindows !== null && r.recoveryWindows !== undefined && r.recoveryWindows <= TARGET_RECOVERY_WINDOWS,
  }));
}

/** The target lines of issue 15, as the `### Targets` list shows them. */
export function admissionTargetLines(results: readonly OverloadResult[]): string[] {
  const checks = overloadChecks(results);
  const out: string[] = [];
  for (const r of results) {
    const c = checks.find((x) => x.configuration === r.configuration)!;
    const name = `**${label(r.configuration)}**`;
    out.push(
      `- overload: p99 of admitted calls under 4x load <= ${TARGET_OVERLOAD_P99_FACTOR}x its unloaded p99, ${name}: ${ms(r.admittedP99)} vs ${TARGET_OVERLOAD_P99_FACTOR} x ${ms(r.unloadedP99)}, ${check(c.isP99Met)}`,
    );
    if (r.limitMedian === undefined) continue;
    out.push(
      `- overload: the limit settles in ${range}, ${name}: median ${r.limitMedian} (${r.limitMin}–${r.limitMax}) over the second half of the 4x phase, ${check(c.isSettled)}`,
      `- overload: the excess fails fast, ${name}: ${percent(r.failedFast / Math.max(1, r.overloadCalls), 1)} refused with \`ERR_CONCURRENCY_LIMITED\` in at most ${ms(r.failFastMax)} (unloaded p50 ${ms(r.unloadedP50)}), ${check(c.isFailFast)}`,
      `- overload: back in ${range} within ${TARGET_RECOVERY_WINDOWS} windows once the load drops to 1x, ${name}: ${recoveryText(r)}, ` +
        (r.recoveryWindows === 0 ? '➖ not exercised (the 4x load did not take the limit out of range)' : check(c.isRecovered)),
    );
  }
  return out;
}

function recoveryText(r: OverloadResult): string {
  if (r.recoveryWindows === null) return 'never';
  if (r.recoveryWindows === 0) return `in range at the drop (${r.limitAtDrop ?? '?'})`;
  return `${r.recoveryWindows} window(s) (${r.limitAtDrop ?? '?'} at the drop)`;
}

/** The `### n. Overload` section. */
export function overloadSection(number: number, results: readonly OverloadResult[], durationMs: number, seed: number): string {
  const bounds = PHASES.map((p) => Math.round(p.share * durationMs) / 1_000);
  const out = [
    `### ${number}. Overload: one backend whose latency doubles above ${KNEE} in flight (issue 15)`,
    '',
    `One backend (b0), log-normal latency (median ${LATENCY_MEDIAN_MS} ms, σ ${LATENCY_SIGMA}) twice as long for a request that arrives with more than ${KNEE} in flight, itself included. ` +
      `${KNEE} in flight serve ${KNEE_RATE.toFixed(0)} calls/s (${KNEE} / the mean latency). Poisson arrivals (seed ${seed}): ` +
      PHASES.map((p, i) => `${p.load}x (${(p.load * KNEE_RATE).toFixed(0)}/s) for ${bounds[i]!} s`).join(', then ') +
      '; the same arrivals for every configuration. Every configuration: round-robin, `timeout: 1000`, `maxWait: 0` (a call that finds the client at its cap fails at once). ' +
      `The limit is \`members()[0].maxInFlight\`, read every 100 ms; a window is ${WINDOW_MS / 1_000} s (gradient2's \`windowMs\`).`,
    '',
    '| configuration | `maxInFlight` | unloaded p50 / p99 | 4x: admitted p50 | admitted p99 | p99 / unloaded p99 | admitted calls/s | failed fast | time to fail (p50 / max) | limit under 4x: median (range) | limit at the drop | back in range after the drop | limit in range at 1x | other failures |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const overloadSeconds = bounds[1]!;
  for (const r of results) {
    const configuration = OVERLOAD_CONFIGURATIONS.find((c) => c.id === r.configuration);
    const others = Object.entries(r.errors).filter(([code]) => code !== 'ERR_CONCURRENCY_LIMITED');
    out.push(
      `| ${label(r.configuration)} | ${configuration?.maxInFlight === undefined ? '–' : `\`${JSON.stringify(configuration.maxInFlight)}\``} | ${ms(r.unloadedP50)} / ${ms(r.unloadedP99)} | ` +
        `${ms(r.admittedP50)} | ${ms(r.admittedP99)} | ${(r.admittedP99 / r.unloadedP99).toFixed(2)}x | ${(r.admitted / overloadSeconds).toFixed(0)} | ` +
        `${percent(r.failedFast / Math.max(1, r.overloadCalls), 1)} | ${r.failedFast === 0 ? '–' : `${ms(r.failFastP50)} / ${ms(r.failFastMax)}`} | ` +
        `${r.limitMedian === undefined ? '–' : `${r.limitMedian} (${r.limitMin}–${r.limitMax})`} | ${r.limitAtDrop ?? '–'} | ` +
        `${r.recoveryWindows === undefined ? '–' : r.recoveryWindows === null ? 'never' : `${r.recoveryWindows} windows`} | ` +
        `${r.inRangeAfter === undefined ? '–' : percent(r.inRangeAfter, 0)} | ${others.length === 0 && r.hung === 0 ? '–' : [...others.map(([code, n]) => `${n} ${code}`), ...(r.hung > 0 ? [`${r.hung} hung`] : [])].join('; ')} |`,
    );
  }
  out.push('', ...overloadObservations(results), '');
  return out.join('\n');
}

/** Findings computed from the overload numbers, so that each one disappears once it stops being true. */
function overloadObservations(results: readonly OverloadResult[]): string[] {
  const find = (id: string): OverloadResult | undefined => results.find((r) => r.configuration === id);
  const found: string[] = [];
  const none = find('no-cap');
  const fixed = find('static-8');
  if (none !== undefined && fixed !== undefined && none.admittedP99 <= TARGET_OVERLOAD_P99_FACTOR * none.unloadedP99) {
    found.push(
      `- The p99 target does not tell the caps apart here: this backend only doubles its latency past the knee, so even without a cap the p99 is ${ms(none.admittedP99)} ` +
        `(${(none.admittedP99 / none.unloadedP99).toFixed(2)}x). What a cap buys is the p50 (${ms(fixed.admittedP50)} with a static cap of ${KNEE} against ${ms(none.admittedP50)}) ` +
        `and an answer at once for the excess instead of a slow one for everyone.`,
    );
  }
  for (const id of ['gradient2', 'aimd']) {
    const r = find(id);
    if (r?.limitMedian === undefined || fixed === undefined) continue;
    if (r.limitMedian > KNEE) {
      const why =
        id === 'gradient2'
          ? 'it shrinks only once it sees the latency rise, so it keeps probing past the knee'
          : 'it sees latency only through its `timeout`, which an answer at twice the 20 ms median seldom passes';
      found.push(
        `- ${label(id)} holds the limit above the knee (median ${r.limitMedian}): ${why}. The admitted calls run at the doubled latency ` +
          `(p50 ${ms(r.admittedP50)}) and it admits ${r.admitted} calls in the 4x phase against ${fixed.admitted} for the static cap of ${KNEE}, which sits on the knee.`,
      );
    }
  }
  return found;
}

/** The `### n. Token quotas` section. */
export function quotaSection(number: number, results: readonly QuotaResult[], durationMs: number, seed: number): string {
  const quotas = KEYS.map((k) => `${k.tokensPerMinute.toLocaleString('en-US').replaceAll(',', ' ')} (${k.name})`).join(' and ');
  const out = [
    `### ${number}. Token quotas: two API keys of ${quotas} tokens a minute (issue 15)`,
    '',
    `A fake provider meters each key as LLM providers do: it counts the tokens each answer really used, when it answers, over a sliding 60-s window, ` +
      'and answers 429 with `Retry-After` (when enough of the window will have expired, in whole seconds) to a request that arrives with the count at or over the quota; ' +
      'a request admitted under the quota may take the count past it (**peak 60 s** is the provider\'s highest count over the quota: over 100 % is a key that exceeded its quota). ' +
      `Each call reserves \`cost: { tokens }\` drawn from ${COST_RANGE[0]}..${COST_RANGE[1]} and really uses ${USAGE_RANGE[0] * 100}..${USAGE_RANGE[1] * 100} % of it; answers take ` +
      `a log-normal ${QUOTA_LATENCY_MEDIAN_MS} ms (median). Poisson arrivals (seed ${seed}) for ${durationMs / 60_000} minutes, offered at 0.5x and 2x the keys' total ` +
      "in reserved tokens a minute. A 429 calls `call.pauseClient(Retry-After)` and fails the call (it is not a breaker failure: `isFailure`); no retries; `maxWait` is the default 1 s. " +
      'Limits are `add(key, { limit: { tokens: { rate: N, per: 60_000, burst: N } } })` for a key of N a minute (N/2 in the last configuration).',
    '',
    '| load | configuration | success | served key-a : key-b | 429s (a / b) | refused locally | used / reserved tokens | used / the keys\' total | peak 60 s, key-a / key-b | exceeded |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const [a, b] = [r.keys[0]!, r.keys[1]!];
    const exceeded = r.keys.filter((k) => k.peakShare > 1).map((k) => k.name);
    out.push(
      `| ${r.load}x | ${label(r.configuration)} | ${percent(r.successes / Math.max(1, r.calls), 1)} | ${a.served} : ${b.served} (1 : ${(b.served / Math.max(1, a.served)).toFixed(2)}) | ` +
        `${a.rejected + b.rejected} (${a.rejected} / ${b.rejected}) | ${r.refusedLocally} | ${percent(r.usedTokens / Math.max(1, r.reservedTokens), 0)} | ${percent(r.utilisation, 0)} | ` +
        `${percent(a.peakShare, 0)} / ${percent(b.peakShare, 0)} | ${exceeded.length === 0 ? 'no' : `**yes** (${exceeded.join(', ')})`} |`,
    );
  }
  out.push('', ...quotaObservations(results), '');
  return out.join('\n');
}

/** Findings computed from the quota numbers. */
function quotaObservations(results: readonly QuotaResult[]): string[] {
  const find = (id: string, load: number): QuotaResult | undefined => results.find((r) => r.configuration === id && r.load === load);
  const rejections = (r: QuotaResult): number => r.keys.reduce((sum, k) => sum + k.rejected, 0);
  const found: string[] = [];
  const none = find('none', 2);
  const limited = find('rr', 2);
  if (none !== undefined && limited !== undefined && rejections(limited) < rejections(none)) {
    found.push(
      `- At 2x, per-key token limits cut the 429s from ${rejections(none)} to ${rejections(limited)}: the pool refuses the excess itself (${limited.refusedLocally} calls, ` +
        '`ERR_RATE_LIMITED` after `maxWait`) instead of sending it to be refused.',
    );
  }
  const settled = find('rr-settle', 2);
  if (limited !== undefined && settled !== undefined && settled.utilisation > limited.utilisation) {
    found.push(
      `- Without \`settle()\` a limit counts the reservation, not what was used (${percent(limited.usedTokens / Math.max(1, limited.reservedTokens), 0)} of it here), so the keys serve ` +
        `${percent(limited.utilisation, 0)} of their quota at 2x; settling the real usage raises that to ${percent(settled.utilisation, 0)}.`,
    );
  }
  const over = results.filter((r) => r.configuration !== 'none' && r.keys.some((k) => k.peakShare > 1));
  const half = results.filter((r) => r.configuration === 'headroom-settle-half');
  if (over.length > 0) {
    found.push(
      `- A limit of N a minute with a burst of N lets through up to 2N in a minute after a quiet one (docs/cost-quotas.md), which a provider counting a sliding minute refuses: ` +
        `${over.map((r) => `${label(r.configuration)} at ${r.load}x`).join('; ')} exceeded a key's quota at some point.` +
        (half.length > 0 && half.every((r) => r.keys.every((k) => k.peakShare <= 1))
          ? ` The form the docs give for every window (rate and burst N/2) never did, at the price of using ${half.map((r) => `${percent(r.utilisation, 0)} at ${r.load}x`).join(', ')} of the keys' total.`
          : ''),
    );
  }
  const rr = find('rr', 0.5);
  const headroom = find('headroom', 0.5);
  if (rr !== undefined && headroom !== undefined) {
    const share = (r: QuotaResult): string => `1 : ${(r.keys[1]!.served / Math.max(1, r.keys[0]!.served)).toFixed(2)}`;
    const splits = results.filter((r) => r.load === 2 && r.configuration !== 'none').map((r) => r.keys[1]!.served / Math.max(1, r.keys[0]!.served));
    found.push(
      `- At 0.5x, round-robin splits calls about evenly (${share(rr)}) and runs the small key near its quota (peak ${percent(rr.keys[0]!.peakShare, 0)}); most-headroom splits ` +
        `${share(headroom)} (peak ${percent(headroom.keys[0]!.peakShare, 0)}).` +
        (splits.length === 0
          ? ''
          : ` At 2x the limited configurations split the calls between 1 : ${Math.min(...splits).toFixed(2)} and 1 : ${Math.max(...splits).toFixed(2)} by count, against quotas of 1 : 4 in tokens: ` +
            'a key short of a large call\'s cost still takes the smaller calls it has room for, so the small key serves more, smaller calls.'),
    );
  }
  return found;
}
