// The terminal view. On a terminal it redraws one frame in place (ANSI cursor control) four times a
// second, with the latest events under it; otherwise (piped, CI, --plain) it prints plain lines every
// two seconds and each event as it happens, which tests and logs can read.
import type { AttemptKind, CircuitState } from '../../src/index.js';
import type { LoopDelay } from './loop-monitor.js';
import type { WindowStats } from './sliding-window.js';

/** One client's row. */
export interface ClientView {
  readonly name: string;
  readonly state: CircuitState;
  readonly inFlight: number;
  /** Its attempts over the last seconds (first tries, retries and hedges). */
  readonly stats: WindowStats;
  readonly tokens: number | undefined;
  readonly burst: number;
  readonly port: number;
  readonly isUp: boolean;
  /** What the upstream does, or when it comes back. */
  readonly note: string;
}

/** The pool's totals. */
export interface PoolView {
  readonly ready: number;
  readonly total: number;
  readonly inFlight: number;
  /** Calls as the callers saw them, over the last seconds. */
  readonly stats: WindowStats;
  readonly tokens: number;
  readonly burst: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly shed: number;
  /** Calls skipped because they could not start on time (the process was stalled). */
  readonly late: number;
  readonly errors: ReadonlyMap<string, number>;
  readonly byPath: ReadonlyMap<string, number>;
  readonly attempts: Readonly<Record<AttemptKind, number>>;
  readonly budget: { readonly balance: number; readonly refused: number } | undefined;
  readonly spans: { readonly attempts: number; readonly calls: number; readonly nested: number; readonly errors: number };
}

/** The demo's own event loop: is the process itself keeping up? */
export interface LoopView {
  /** How late timers ran since the last frame, in ms. */
  readonly delay: LoopDelay;
  /** Stalls so far (timers later than `stallMs`), and their total length in ms. */
  readonly stalls: number;
  readonly stalledMs: number;
  readonly stallMs: number;
}

export interface Frame {
  readonly elapsedMs: number;
  readonly durationMs: number;
  readonly rate: number;
  readonly metricsUrl: string;
  readonly clients: readonly ClientView[];
  readonly pool: PoolView;
  readonly loop: LoopView;
}

/** Where the dashboard writes: `process.stdout`, or a fake in a test. */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
  readonly rows?: number;
}

type Style = 'bold' | 'dim' | 'green' | 'yellow' | 'red';
const SGR: Record<Style, string> = { bold: '1', dim: '2', green: '32', yellow: '33', red: '31' };
type Segment = readonly [text: string, style?: Style | undefined];

const LIVE_REFRESH_MS = 250;
const PLAIN_REFRESH_MS = 2_000;
const EVENTS_SHOWN = 8;

/** Shows frames from `collect`: live on a terminal, as plain lines otherwise. */
export class Dashboard {
  readonly #out: Output;
  readonly #collect: () => Frame;
  readonly #isLive: boolean;
  readonly #hasColor: boolean;
  readonly #events: string[] = [];
  readonly #startedAt: number;
  #timer: NodeJS.Timeout | undefined;
  /** Lines of the last live frame, to move the cursor back over. */
  #drawn = 0;

  constructor(out: Output, collect: () => Frame, options: { readonly isPlain: boolean; readonly startedAt: number; readonly env: NodeJS.ProcessEnv }) {
    this.#out = out;
    this.#collect = collect;
    this.#isLive = out.isTTY === true && !options.isPlain;
    this.#hasColor = this.#isLive && options.env['NO_COLOR'] === undefined;
    this.#startedAt = options.startedAt;
  }

  get isLive(): boolean {
    return this.#isLive;
  }

  start(): void {
    if (this.#isLive) this.#out.write('\x1b[?25l'); // hide the cursor while redrawing
    this.#timer = setInterval(() => this.#show(), this.#isLive ? LIVE_REFRESH_MS : PLAIN_REFRESH_MS);
    this.#show();
  }

  /** Something happened: kept under the live frame, or printed at once as a plain line. */
  event(message: string): void {
    const line = `${stamp(performance.now() - this.#startedAt)}  ${message}`;
    if (this.#isLive) {
      this.#events.push(line);
      if (this.#events.length > EVENTS_SHOWN) this.#events.shift();
    } else {
      this.#out.write(`${line}\n`);
    }
  }

  /** Show the last frame and stop refreshing. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#show();
    if (this.#isLive) this.#out.write('\x1b[?25h');
  }

  /** The terminal changed size: start again on a clear screen rather than move over wrapped lines. */
  resized(): void {
    if (!this.#isLive) return;
    this.#out.write('\x1b[2J\x1b[H');
    this.#drawn = 0;
  }

  #show(): void {
    const frame = this.#collect();
    if (this.#isLive) this.#draw(frame);
    else this.#out.write(plainLines(frame).map((line) => `${line}\n`).join(''));
  }

  #draw(frame: Frame): void {
    const width = Math.max(20, (this.#out.columns ?? 120) - 1);
    let lines = [...liveLines(frame), [] as Segment[], [['events', 'bold'] as Segment], ...this.#events.map((event) => [[`  ${event}`] as Segment])];
    // Never taller than the terminal: moving the cursor up cannot reach lines scrolled off the top.
    const rows = this.#out.rows ?? 40;
    if (lines.length > rows - 1) lines = lines.slice(0, Math.max(1, rows - 1));
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : '';
    for (const line of lines) text += `${render(line, width, this.#hasColor)}\x1b[K\n`;
    this.#out.write(`${text}\x1b[J`);
    this.#drawn = lines.length;
  }
}

/** The live frame: a table, one row per client and one for the pool, then the totals. */
export function liveLines(frame: Frame): Segment[][] {
  const { pool } = frame;
  const duration = Number.isFinite(frame.durationMs) ? ` / ${seconds(frame.durationMs)}` : ' (until Ctrl-C)';
  const header = `${pad('client', 9)}${pad('circuit', 11)}${lpad('in-flight', 9)}${lpad('req/s', 8)}${lpad('err%', 8)}${lpad('p50', 9)}${lpad('p99', 9)}${lpad('tokens', 10)}  upstream`;
  const lines: Segment[][] = [
    [['clientpool demo', 'bold'], [`  t=${seconds(frame.elapsedMs)}${duration}  ${frame.rate} calls/s offered  metrics ${frame.metricsUrl}  `], ['Ctrl-C stops', 'dim']],
    [],
    [[header, 'dim']],
  ];
  for (const client of frame.clients) {
    lines.push([
      [pad(client.name, 9)],
      [pad(client.state.kind, 11), stateStyle(client.state)],
      [`${lpad(client.inFlight, 9)}${lpad(client.stats.perSecond.toFixed(1), 8)}`],
      [lpad(percent(client.stats.errorRate), 8), client.stats.errorRate > 0.5 ? 'red' : client.stats.errorRate > 0.05 ? 'yellow' : undefined],
      [`${lpad(ms(client.stats.p50), 9)}${lpad(ms(client.stats.p99), 9)}${lpad(tokens(client.tokens, client.burst), 10)}  :${client.port} `],
      client.isUp ? ['up  ', 'green'] : ['DOWN', 'red'],
      [` ${client.note}`, 'dim'],
    ]);
  }
  lines.push([
    [pad('pool', 9), 'bold'],
    [pad(`${pool.ready}/${pool.total} ready`, 11)],
    [`${lpad(pool.inFlight, 9)}${lpad(pool.stats.perSecond.toFixed(1), 8)}${lpad(percent(pool.stats.errorRate), 8)}${lpad(ms(pool.stats.p50), 9)}${lpad(ms(pool.stats.p99), 9)}${lpad(tokens(pool.tokens, pool.burst), 10)}  `],
    ['calls as their callers saw them', 'dim'],
  ]);
  lines.push([], ...totals(frame).map((line): Segment[] => [[line]]));
  return lines;
}

/** The plain lines of one refresh: a line per client and one for the pool, each with the time. */
export function plainLines(frame: Frame): string[] {
  const at = stamp(frame.elapsedMs);
  const lines = frame.clients.map(
    (client) =>
      `${at}  ${pad(client.name, 8)} circuit=${pad(client.state.kind, 9)} in-flight=${client.inFlight} req/s=${client.stats.perSecond.toFixed(1)} ` +
      `err=${percent(client.stats.errorRate)} p50=${ms(client.stats.p50)} p99=${ms(client.stats.p99)} tokens=${tokens(client.tokens, client.burst)} ${client.isUp ? 'up' : 'DOWN'}`,
  );
  const { pool } = frame;
  lines.push(
    `${at}  ${pad('pool', 8)} ready=${pool.ready}/${pool.total} in-flight=${pool.inFlight} calls/s=${pool.stats.perSecond.toFixed(1)} ` +
      `err=${percent(pool.stats.errorRate)} p50=${ms(pool.stats.p50)} p99=${ms(pool.stats.p99)} tokens=${tokens(pool.tokens, pool.burst)}`,
    ...totals(frame).map((line) => `${at}  ${line}`),
  );
  return lines;
}

function totals({ pool, loop }: Frame): string[] {
  const errors = [...pool.errors].map(([code, count]) => `${code} ${count}`).join(', ');
  const paths = [...pool.byPath].map(([path, count]) => `${path} ${count}`).join(', ');
  const { first, retry, hedge } = pool.attempts;
  const budget = pool.budget === undefined ? '' : `; retry budget ${pool.budget.balance.toFixed(1)} left, ${pool.budget.refused} refused`;
  const spans = pool.spans;
  return [
    `calls    ${pool.succeeded} ok, ${pool.failed} failed${errors === '' ? '' : ` (${errors})`}, ${pool.shed} shed, ${pool.late} late; via ${paths}`,
    `attempts ${first + retry + hedge}: ${first} first, ${retry} retries, ${hedge} hedges${budget}`,
    `spans    ${spans.attempts + spans.calls} ended: ${spans.attempts} attempts (${spans.nested} under a call span), ${spans.calls} calls; ${spans.errors} errors`,
    `loop     delay p50=${ms(loop.delay.p50)} p99=${ms(loop.delay.p99)} max=${ms(loop.delay.max)}; ${loop.stalls} stalls over ${loop.stallMs} ms (${seconds(loop.stalledMs)})`,
  ];
}

function render(line: readonly Segment[], width: number, hasColor: boolean): string {
  let text = '';
  let left = width;
  for (const [segment, style] of line) {
    if (left <= 0) break;
    const visible = segment.length > left ? segment.slice(0, left) : segment;
    left -= visible.length;
    text += hasColor && style !== undefined ? `\x1b[${SGR[style]}m${visible}\x1b[0m` : visible;
  }
  return text;
}

function stateStyle(state: CircuitState): Style {
  return state.kind === 'closed' ? 'green' : state.kind === 'open' ? 'red' : 'yellow';
}

const pad = (value: string | number, width: number): string => String(value).padEnd(width);
const lpad = (value: string | number, width: number): string => String(value).padStart(width);
const seconds = (msValue: number): string => `${(msValue / 1_000).toFixed(1)}s`;
const stamp = (msValue: number): string => `[t=${lpad(seconds(msValue), 6)}]`;
const ms = (value: number): string => (Number.isNaN(value) ? '-' : `${value.toFixed(1)}ms`);
const percent = (ratio: number): string => (Number.isNaN(ratio) ? '-' : `${(ratio * 100).toFixed(1)}%`);
const tokens = (value: number | undefined, burst: number): string => (value === undefined ? '-' : `${Math.floor(value)}/${burst}`);
