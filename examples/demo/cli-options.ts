// The demo's flags: one schema for node:util parseArgs, checked once, with errors that name the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';

const OPTIONS = {
  duration: { type: 'string', default: '30' },
  port: { type: 'string' },
  rate: { type: 'string', default: '200' },
  seed: { type: 'string', default: '42' },
  plain: { type: 'boolean', default: false },
  redis: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export const USAGE = `Usage: npm run demo -- [options]

Starts four HTTP upstreams on 127.0.0.1 (healthy, slow, flaky, and one that is killed and restarted),
drives traffic through a ClientPool over them, and shows a live dashboard. Serves Prometheus metrics.
On a busy machine it skips the calls it cannot start on time, and shows how late its event loop runs.

  --duration <s>   stop after this many seconds; 0 runs until Ctrl-C   [default: 30]
  --port <n>       port of /metrics; 0 for any free port; falls back to a free one if taken
                   [default: $PORT, else 8080]
  --rate <n>       calls started per second (open loop), 1 to 5000      [default: 200]
  --seed <n>       seed of the upstreams' and the pool's randomness      [default: 42]
  --plain          periodic plain lines instead of the live view (the default when stdout is not a terminal)
  --redis <p|url>  share the healthy client's quota through Redis (a RedisTokenBucket), at this port on
                   127.0.0.1 or this redis:// URL, and export its metrics; off by default
  -h, --help       show this help

Stop it any time with Ctrl-C (SIGINT) or SIGTERM: the pool and the servers are closed, exit code 0.
`;

export interface DemoOptions {
  /** Milliseconds to run; `Infinity` until stopped. */
  readonly durationMs: number;
  readonly port: number;
  readonly rate: number;
  readonly seed: number;
  readonly isPlain: boolean;
  readonly isHelp: boolean;
  /** `redis://...` of the server holding the shared quota (`--redis`), or undefined without one. */
  readonly redisUrl: string | undefined;
}

/** Parse and check the flags; throws a `TypeError` naming the bad flag and value. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): DemoOptions {
  const { values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false });
  const duration = number('--duration', values.duration, 0, 86_400);
  return {
    durationMs: duration === 0 ? Number.POSITIVE_INFINITY : duration * 1_000,
    port: number(values.port === undefined ? 'PORT' : '--port', values.port ?? env['PORT'] ?? '8080', 0, 65_535, true),
    rate: number('--rate', values.rate, 1, 5_000),
    seed: number('--seed', values.seed, 0, 2 ** 32 - 1, true),
    isPlain: values.plain,
    isHelp: values.help,
    redisUrl: values.redis === undefined ? undefined : redisUrl(values.redis),
  };
}

/** `--redis`: a port on 127.0.0.1, or a redis:// (rediss://) URL. */
function redisUrl(text: string): string {
  if (/^\d+$/.test(text)) return `redis://127.0.0.1:${number('--redis', text, 1, 65_535, true)}`;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
    throw new TypeError(`--redis must be a port from 1 to 65535 or a redis:// URL, got '${text}'`);
  }
  return text;
}

function number(flag: string, text: string, min: number, max: number, isInteger = false): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max || (isInteger && !Number.isInteger(value))) {
    throw new TypeError(`${flag} must be ${isInteger ? 'an integer' : 'a number'} from ${min} to ${max}, got '${text}'`);
  }
  return value;
}
