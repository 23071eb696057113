import { existsSync } from 'node:fs';

/**
 * HOOKS for benchmarks other engineers own, run only when their file exists and exports the function:
 *
 * - `bench/redis.ts` (Redis limiter bench): `redisBench({ url, ... })`, against `REDIS_URL` when set, else a
 *   throwaway `redis-server` started with test/redis/redis-server.ts (as `npx tsx bench/redis.ts` does).
 * - `bench/simulation/index.ts` (fault simulation): `runSimulation({ quick, write, log, command })`; a full
 *   run lets it write its own `## Fault simulation` section of bench/README.md and bench/simulation.svg,
 *   as its CLI does.
 *
 * Whatever they resolve with becomes a section of RESULTS.md: a string is taken as Markdown, an object's
 * `markdown` string likewise (a leading `## <title>` line is dropped, the report has its own); anything
 * else is shown as JSON. A missing bench or a failure is said in its section, never thrown.
 */
export interface OptionalBench {
  readonly title: string;
  /** Module, relative to bench/, and the export to call. */
  readonly file: string;
  readonly export: string;
  /** Calls the export found in `file`. */
  readonly run: (fn: (options: object) => Promise<unknown>, quick: boolean) => Promise<unknown>;
}

interface RedisServer {
  readonly url: string;
  stop(): Promise<void>;
}

export const OPTIONAL_BENCHES: readonly OptionalBench[] = [
  {
    title: 'Redis rate limiter',
    file: 'redis.ts',
    export: 'redisBench',
    run: async (redisBench, quick) => {
      const given = process.env['REDIS_URL'];
      const server = given === undefined ? await ((await load('../test/redis/redis-server.ts'))['startRedisServer'] as () => Promise<RedisServer>)() : undefined;
      try {
        return await redisBench({ url: given ?? server!.url, ...(quick ? { iterations: 1_000, rounds: 3 } : {}) });
      } finally {
        await server?.stop();
      }
    },
  },
  {
    title: 'Fault simulation',
    file: 'simulation/index.ts',
    export: 'runSimulation',
    run: (runSimulation, quick) =>
      runSimulation({ quick, write: !quick, log: (line: string) => console.log(line), command: quick ? 'npm run bench -- --quick' : 'npm run bench' }),
  },
  {
    title: 'Fleet',
    file: 'fleet.ts',
    export: 'runFleetBench',
    run: (runFleetBench, quick) =>
      quick
        ? Promise.resolve('Not run with --quick (about 1 min): `node --import tsx bench/fleet.ts --quick`.')
        : runFleetBench({ write: true, log: (line: string) => console.log(line), command: 'npm run bench' }),
  },
];

export interface OptionalResult {
  readonly title: string;
  /** Whether the bench was found and ran to the end. */
  readonly ran: boolean;
  readonly markdown: string;
}

/** Run one optional bench if it is there. */
export async function runOptional(bench: OptionalBench, options: { readonly quick: boolean }): Promise<OptionalResult> {
  const label = `bench/${bench.file}#${bench.export}`;
  const url = new URL(`./${bench.file}`, import.meta.url);
  const fn = existsSync(url) ? (await load(url.href))[bench.export] : undefined;
  if (typeof fn !== 'function') return { title: bench.title, ran: false, markdown: `Not run: no \`${label}()\` yet (hook in bench/optional.ts).` };
  const start = performance.now();
  try {
    const result = await bench.run(fn as (options: object) => Promise<unknown>, options.quick);
    const seconds = (performance.now() - start) / 1000;
    return { title: bench.title, ran: true, markdown: `${withoutHeading(toMarkdown(result), bench.title)}\n\n(\`${label}\`, ${seconds.toFixed(1)} s)` };
  } catch (error) {
    return { title: bench.title, ran: false, markdown: `Failed: \`${label}\` threw ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** A computed specifier: the module may not exist when this file is type-checked. */
async function load(specifier: string): Promise<Record<string, unknown>> {
  return (await import(new URL(specifier, import.meta.url).href)) as Record<string, unknown>;
}

function toMarkdown(result: unknown): string {
  if (typeof result === 'string') return result;
  if (typeof result === 'object' && result !== null && typeof (result as { markdown?: unknown }).markdown === 'string') return (result as { markdown: string }).markdown;
  if (result === undefined) return '(it printed its own output)';
  return `\`\`\`json\n${JSON.stringify(result, null, 2)}\n\`\`\``;
}

function withoutHeading(markdown: string, title: string): string {
  const lines = markdown.trimStart().split('\n');
  return lines[0]?.trim() === `## ${title}` ? lines.slice(1).join('\n').trim() : markdown;
}
