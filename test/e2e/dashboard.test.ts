// The shipped Grafana dashboard (ops/grafana-dashboard.json) and Prometheus alert rules
// (ops/prometheus-alerts.yml), checked three ways: the dashboard type-checks against @grafana/schema's
// Dashboard and panel types (so does the dashboard docs/operations.md's Pool variable recipe makes); promtool
// checks the rules and runs their unit tests; and a real Prometheus,
// scraping the demo with the rules loaded, evaluates every rule without error and returns data for every
// panel query and for the quantity every alert watches. The demo runs at --rate 500, above its pool-wide
// limit of 400 tokens/s, so that the rate-limit panels have waits and refusals to show; its outage
// upstream goes down every 30 s, so that circuits open and close; and with --redis on a redis-server of its
// own, so that the shared rate limit panels have a bucket to show, whose Redis is killed (the bucket falls
// back) and restarted (it returns) at the end. Without prometheus or promtool the
// suite fails in CI (CI set) and is skipped locally, as test/e2e/prometheus.test.ts does. Every wait is
// for an event; its deadline only stops a hang.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import * as ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANG_BOUND_MS } from '../helpers/hang-bound.js';
import { DemoProcess, fetchText, pollUntil, REPO } from './demo-process.js';
import { findBinary, startPrometheus, type PrometheusServer } from './prometheus-server.js';
import { startRedisServer, type RedisServer } from '../redis/redis-server.js';

const DASHBOARD_PATH = join(REPO, 'ops/grafana-dashboard.json');
const RULES_PATH = join(REPO, 'ops/prometheus-alerts.yml');
const RULE_TESTS_PATH = join(REPO, 'ops/prometheus-alerts.test.yml');
const JOB = 'clientpool-demo';
/** What Grafana's `$__rate_interval` becomes here: at least four scrapes (1 s apart) per window. */
const RATE_INTERVAL = '1m';

/** The parts of the dashboard JSON the checks read; the full shape is checked by the compiler below. */
interface DashboardJson {
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string; readonly query: unknown }[] };
  readonly panels: readonly PanelJson[];
}

interface PanelJson {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets?: readonly { readonly expr: string; readonly refId: string; readonly datasource?: { readonly uid?: string } }[];
  readonly panels?: readonly PanelJson[];
}

const dashboardText = readFileSync(DASHBOARD_PATH, 'utf8');
const dashboard = JSON.parse(dashboardText) as DashboardJson;
/** Every panel, rows' nested ones included, with its Prometheus targets. */
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const queryPanels = panels.filter((panel) => panel.type !== 'row');

const ci = process.env['CI'];
const isCI = ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';

/** Run `binary` to its end; its exit code and all it printed. */
async function run(binary: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { cwd: REPO, timeout: HANG_BOUND_MS }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(error);
      else resolve({ code: error === null ? 0 : (error.code as number), output: `${stdout}${stderr}` });
    });
  });
}

/** A panel query as Prometheus receives it: Grafana's variables replaced by what they select here. */
function substitute(expr: string, instance: string): string {
  return expr
    .replaceAll('$__rate_interval', RATE_INTERVAL)
    .replaceAll(/\$\{?job\}?/g, JOB)
    .replaceAll(/\$\{?instance\}?/g, instance.replaceAll('.', '\\\\.'));
}

/**
 * An alert's expression without its final comparison with a number: the quantity it watches, which must
 * have data on a running pool even while the alert itself (firing only on failure) returns nothing.
 */
function watchedQuantity(expr: string): string {
  const match = /^([\s\S]*?)\s*(?:==|!=|>=|<=|>|<)\s*-?\d+(?:\.\d+)?\s*$/.exec(expr);
  if (match === null) throw new Error(`alert expression without a final comparison: ${expr}`);
  return match[1]!;
}

describe('the shipped Grafana dashboard', () => {
  it('type-checks against @grafana/schema: Dashboard, and each panel\'s own options and field config', () => {
    expect(dashboardTypeErrors(dashboardText)).toEqual([]);
  }, HANG_BOUND_MS);

  it('has unique panel ids and no two panels overlapping on the 24-column grid', () => {
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Map<string, string>();
    for (const panel of panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let row = y; row < y + h; row++) {
        for (let column = x; column < x + w; column++) {
          const key = `${column},${row}`;
          expect(cells.get(key), `${panel.title} overlaps ${cells.get(key) ?? ''}`).toBeUndefined();
          cells.set(key, panel.title);
        }
      }
    }
  });

  it('queries the chosen data source, job and instance with the default prefix in every panel', () => {
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['datasource', 'job', 'instance']);
    expect(queryPanels.length).toBeGreaterThan(0);
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.datasource?.uid, panel.title).toBe('${datasource}');
        const selectors = [...target.expr.matchAll(/\b(\w+)\{([^}]*)\}/g)];
        expect(selectors.length, target.expr).toBeGreaterThan(0);
        for (const [, metric, labels] of selectors) {
          expect(metric, target.expr).toMatch(/^middleware_/);
          expect(labels, target.expr).toContain('job=~"$job", instance=~"$instance"');
        }
      }
    }
  });
});

const jq = findBinary('jq', 'JQ');

/** docs/operations.md's commands that add a Pool variable to the dashboard, as the reader copies them. */
function poolRecipe(): string {
  const docs = readFileSync(join(REPO, 'docs/operations.md'), 'utf8');
  const recipe = /```sh\n(sed [^\n]*ops\/grafana-dashboard\.json \|[\s\S]*?> clientpool-by-pool\.json)\n```/.exec(docs);
  if (recipe === null) throw new Error('docs/operations.md has no Pool variable recipe (sed ... | jq ... > clientpool-by-pool.json)');
  return recipe[1]!;
}

describe('the documented Pool variable recipe (docs/operations.md)', () => {
  it.runIf(jq !== undefined || isCI)('yields a dashboard that type-checks, with a pool variable and pool=~"$pool" in every selector but its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clientpool-pool-recipe-'));
    try {
      symlinkSync(join(REPO, 'ops'), join(dir, 'ops'));
      const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile('bash', ['-e', '-o', 'pipefail', '-c', poolRecipe()], { cwd: dir, timeout: HANG_BOUND_MS, env: { ...process.env, PATH: `${join(jq ?? '/usr/bin/jq', '..')}${delimiter}${process.env['PATH'] ?? ''}` } }, (error, stdout, stderr) => {
          resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` });
        });
      });
      expect(code, output).toBe(0);
      const text = readFileSync(join(dir, 'clientpool-by-pool.json'), 'utf8');
      expect(dashboardTypeErrors(text)).toEqual([]);
      const edited = JSON.parse(text) as DashboardJson;
      const pool = edited.templating.list.find((variable) => variable.name === 'pool');
      expect(pool?.query).toBe('label_values(middleware_circuit_state{job=~"$job", instance=~"$instance"}, pool)');
      const targets = edited.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]).flatMap((panel) => panel.targets ?? []);
      expect(targets).toHaveLength(queryPanels.flatMap((panel) => panel.targets ?? []).length);
      for (const { expr } of targets) {
        for (const [, , labels] of expr.matchAll(/\b(\w+)\{([^}]*)\}/g)) expect(labels, expr).toContain('job=~"$job", instance=~"$instance", pool=~"$pool"');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, HANG_BOUND_MS);
});

const prometheus = findBinary('prometheus', 'PROMETHEUS');
const promtool = findBinary('promtool', 'PROMTOOL');
const MISSING = 'prometheus or promtool not found (set PROMETHEUS and PROMTOOL, or install the Debian package prometheus)';

if (prometheus === undefined || promtool === undefined) {
  if (isCI) {
    // In CI a missing binary is a failure, so that a broken image cannot pass by skipping the test.
    it('needs prometheus and promtool in CI', () => {
      throw new Error(`${MISSING}; CI must check the alert rules and the dashboard against Prometheus`);
    });
  } else {
    console.warn(`skipping the alert-rule and dashboard checks against Prometheus: ${MISSING}`);
    it.skip('the alert rules and the dashboard against a real Prometheus', () => {});
  }
} else {
  describeRules(promtool);
  describeWithPrometheus(prometheus);
}

function describeRules(promtool: string): void {
  describe('the shipped Prometheus alert rules', () => {
    it('pass promtool check rules', async () => {
      const { code, output } = await run(promtool, ['check', 'rules', RULES_PATH]);
      expect(output).toMatch(/SUCCESS: \d+ rules found/);
      expect(code, output).toBe(0);
    }, HANG_BOUND_MS);

    it('pass their unit tests (promtool test rules): each alert fires on its failure and not on a healthy pool', async () => {
      const { code, output } = await run(promtool, ['test', 'rules', RULE_TESTS_PATH]);
      expect(code, output).toBe(0);
      expect(output).toContain('SUCCESS');
    }, HANG_BOUND_MS);
  });
}

/** One series of an instant-vector query result. */
interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

interface QueryResponse {
  readonly status: string;
  readonly error?: string;
  readonly data?: { readonly resultType: string; readonly result: readonly VectorSample[] };
}

interface RuleState {
  readonly name: string;
  readonly query: string;
  readonly health: string;
  readonly lastError?: string;
  readonly lastEvaluation: string;
  readonly type: string;
}

function describeWithPrometheus(binary: string): void {
  describe('the dashboard and the alert rules against a real Prometheus scraping the demo', () => {
    let demo: DemoProcess | undefined;
    let redis: RedisServer | undefined;
    let server: PrometheusServer | undefined;
    let dir: string | undefined;
    let api = '';
    let target = '';

    const diagnostics = (): string => `\nprometheus:\n${server?.log() ?? ''}\ndemo:\n${demo?.output.slice(-4_000) ?? ''}`;

    async function query(expr: string): Promise<QueryResponse> {
      const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(30_000) });
      return (await response.json()) as QueryResponse;
    }

    /** Poll `expr` until it returns a series with a number (not NaN); fails at once on a query error. */
    async function untilData(expr: string, what: string): Promise<readonly VectorSample[]> {
      let last: QueryResponse | undefined;
      return pollUntil(
        async () => {
          last = await query(expr);
          if (last.status !== 'success') throw new Error(`${what}: Prometheus rejected ${expr}: ${last.error ?? JSON.stringify(last)}`);
          const result = last.data?.result ?? [];
          return result.some((sample) => !Number.isNaN(Number(sample.value[1]))) ? result : undefined;
        },
        HANG_BOUND_MS,
        () => `${what}: no data for\n${expr}\nlast answer: ${JSON.stringify(last)}${diagnostics()}`,
        500,
      );
    }

    beforeAll(async () => {
      redis = await startRedisServer();
      demo = new DemoProcess(['--duration', '0', '--port', '0', '--rate', '500', '--redis', String(redis.port)]);
      target = new URL(await demo.metricsUrl(HANG_BOUND_MS)).host;

      dir = mkdtempSync(join(tmpdir(), 'clientpool-dashboard-'));
      server = await startPrometheus({
        binary,
        dir,
        config: [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${JSON.stringify(RULES_PATH)}`,
          'scrape_configs:',
          `  - job_name: ${JOB}`,
          '    static_configs:',
          `      - targets: ['${target}']`,
          '',
        ].join('\n'),
        hangMs: HANG_BOUND_MS,
      });
      api = server.api;
    }, 2 * HANG_BOUND_MS);

    afterAll(async () => {
      // Even after a failure: nothing may outlive the test.
      await server?.stop();
      await demo?.stop();
      await redis?.stop();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }, 20_000);

    it('loads every alert rule and evaluates each without error', async () => {
      const declared = [...readFileSync(RULES_PATH, 'utf8').matchAll(/^\s*- alert: (\w+)\s*$/gm)].map((match) => match[1]!);
      expect(declared.length).toBeGreaterThan(0);
      // A rule evaluated before the first scrape sees no series and cannot fail: wait for an evaluation
      // that saw the demo's series (its circuits are there from the first scrape on).
      const [sample] = await untilData(`middleware_circuit_state{job="${JOB}"}`, 'the first scrape');
      const scrapedAt = sample!.value[0] * 1_000;
      const rules = await pollUntil(
        async () => {
          const text = await fetchText(`${api}/api/v1/rules`);
          if (text === undefined) return undefined;
          const body = JSON.parse(text) as { data: { groups: { rules: RuleState[] }[] } };
          const all = body.data.groups.flatMap((group) => group.rules);
          return all.length === declared.length && all.every((rule) => Date.parse(rule.lastEvaluation) > scrapedAt) ? all : undefined;
        },
        HANG_BOUND_MS,
        () => `Prometheus did not load and evaluate the ${declared.length} rules of ${RULES_PATH}${diagnostics()}`,
        500,
      );
      expect(rules.map((rule) => rule.name).sort()).toEqual([...declared].sort());
      for (const rule of rules) {
        expect({ name: rule.name, type: rule.type, health: rule.health, lastError: rule.lastError ?? '' }).toEqual({ name: rule.name, type: 'alerting', health: 'ok', lastError: '' });
      }
    }, 2 * HANG_BOUND_MS);

    it('runs every alert expression as valid PromQL, and finds data for the quantity each alert watches', async () => {
      const text = await pollUntil(async () => fetchText(`${api}/api/v1/rules`), HANG_BOUND_MS, () => `no /api/v1/rules${diagnostics()}`);
      const rules = (JSON.parse(text) as { data: { groups: { rules: RuleState[] }[] } }).data.groups.flatMap((group) => group.rules);
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) {
        // The alert itself returns data only on failure (a healthy demo may not trip it): it must parse and run.
        const answer = await query(rule.query);
        expect({ rule: rule.name, status: answer.status, error: answer.error }).toEqual({ rule: rule.name, status: 'success', error: undefined });
        await untilData(watchedQuantity(rule.query), `alert ${rule.name}`);
      }
    }, 2 * HANG_BOUND_MS);

    it('fills every template variable with the demo\'s job and instance', async () => {
      for (const variable of dashboard.templating.list.filter((candidate) => candidate.type === 'query')) {
        const match = /^label_values\((.+),\s*(\w+)\)$/.exec(String(variable.query));
        expect(match, `variable ${variable.name}: ${String(variable.query)}`).not.toBeNull();
        const [, selector, label] = match!;
        const url = `${api}/api/v1/label/${label!}/values?match[]=${encodeURIComponent(substitute(selector!, target))}`;
        const values = await pollUntil(
          async () => {
            const text = await fetchText(url);
            const data = text === undefined ? [] : (JSON.parse(text) as { data: string[] }).data;
            return data.length > 0 ? data : undefined;
          },
          HANG_BOUND_MS,
          () => `variable ${variable.name}: no values from ${url}${diagnostics()}`,
          500,
        );
        expect(values, `variable ${variable.name}`).toContain(variable.name === 'job' ? JOB : target);
      }
    }, 2 * HANG_BOUND_MS);

    it('returns data for every panel query, its variables substituted', async () => {
      for (const panel of queryPanels) {
        for (const { expr, refId } of panel.targets ?? []) {
          const promql = substitute(expr, target);
          expect(promql, `${panel.title} ${refId}`).not.toContain('$');
          await untilData(promql, `panel "${panel.title}" query ${refId}`);
        }
      }
    }, 2 * HANG_BOUND_MS);

    it('shows the shared bucket in fallback (mode 1, one more fallback) while its Redis is down, and back on Redis (mode 0) once it is up', async () => {
      const mode = `max(middleware_redis_bucket_mode{job="${JOB}"})`;
      const fallbacks = `max(middleware_redis_bucket_fallbacks_total{job="${JOB}"})`;
      const valueOf = (samples: readonly VectorSample[]): number => Number(samples[0]!.value[1]);
      const fallbacksBefore = valueOf(await untilData(fallbacks, 'fallbacks before the kill'));
      await untilData(`${mode} == 0`, 'the bucket on Redis before the kill');
      await redis!.kill();
      await untilData(`${mode} == 1`, 'the bucket in fallback once Redis was killed');
      expect(valueOf(await untilData(fallbacks, 'fallbacks after the kill'))).toBeGreaterThan(fallbacksBefore);
      await untilData(`rate(middleware_redis_bucket_tokens_total{job="${JOB}", source="local"}[${RATE_INTERVAL}]) > 0`, 'tokens from the local share');
      await redis!.restart();
      await untilData(`${mode} == 0`, 'the bucket back on Redis once it restarted');
    }, 4 * HANG_BOUND_MS);
  });
}

/**
 * Type errors of the dashboard JSON checked as a TypeScript literal against @grafana/schema. JSON has no
 * enums: where the schema uses a string enum (`FieldColorModeId`, `LegendDisplayMode`, ...) the literal is
 * compared with the enum's values (`Loose`). The fixture is compiled in memory, as if it sat in test/e2e.
 */
function dashboardTypeErrors(json: string): string[] {
  const fixture = join(REPO, 'test/e2e/grafana-dashboard.fixture.ts');
  const source = `
import type { Dashboard, DataQuery, DataSourceRef, FieldConfig, MatcherConfig, Panel, RowPanel } from '@grafana/schema';
import type * as stateTimeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
import type * as timeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

/** The schema's type with every string enum replaced by the union of its values, as JSON spells them. */
type Loose<T> = T extends string ? \`\${T}\` : T extends readonly (infer E)[] ? Loose<E>[] : T extends (...args: never[]) => unknown ? T : T extends object ? { [K in keyof T]: Loose<T[K]> } : T;

/** Grafana's Prometheus query model (its dataquery.cue): no package publishes it as a type. */
interface PrometheusQuery extends DataQuery {
  datasource: DataSourceRef;
  expr: string;
  legendFormat?: string;
  editorMode?: 'code' | 'builder';
  range?: boolean;
  instant?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
  exemplar?: boolean;
}

/** A panel of one plugin: its options and custom field config are that plugin's types. */
type PluginPanel<Type extends string, Options, Custom> = Omit<Panel, 'type' | 'options' | 'fieldConfig' | 'targets'> & {
  type: Type;
  options: Options;
  fieldConfig: { defaults: Omit<FieldConfig, 'custom'> & { custom?: Custom }; overrides: { matcher: MatcherConfig; properties: { id: string; value?: unknown }[] }[] };
  targets: PrometheusQuery[];
};

type ShippedPanel =
  | PluginPanel<'timeseries', timeSeries.Options, timeSeries.FieldConfig>
  | PluginPanel<'state-timeline', stateTimeline.Options, stateTimeline.FieldConfig>
  | (Omit<RowPanel, 'panels'> & { panels: ShippedPanel[] });

export const asDashboard = ${json.trim()} satisfies Loose<Dashboard>;

export const asShippedPanels = ${json.trim()} satisfies Loose<Omit<Dashboard, 'panels'> & { panels: ShippedPanel[] }>;
`;
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: true,
    types: [],
    noEmit: true,
  };
  const base = ts.createCompilerHost(options);
  const host: ts.CompilerHost = {
    ...base,
    getSourceFile: (fileName, languageVersion, ...rest) =>
      fileName === fixture ? ts.createSourceFile(fileName, source, languageVersion, true) : base.getSourceFile(fileName, languageVersion, ...rest),
    fileExists: (fileName) => fileName === fixture || base.fileExists(fileName),
    readFile: (fileName) => (fileName === fixture ? source : base.readFile(fileName)),
  };
  const program = ts.createProgram([fixture], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file === undefined ? '' : `${d.file.fileName === fixture ? 'fixture' : d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1} `;
    return `${where}TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n').slice(0, 600)}`;
  });
}
