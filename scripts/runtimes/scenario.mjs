// The pool scenario every runtime must pass (docs/runtimes.md): Node, Bun and Deno run it through
// smoke.mjs against the built package; test/runtimes/browser-bundle.test.ts bundles it with the core for a
// browser. It takes the library as an argument and uses only web-standard globals, so that one file
// serves both; in-process fake clients, real (short) timers.

/** What a run of the scenario reports: every check that held, and every one that did not. */
export class ScenarioReport {
  passed = 0;
  /** @type {string[]} */
  failures = [];

  /** @param {string} what @param {unknown} actual @param {unknown} expected */
  equal(what, actual, expected) {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a === e) this.passed++;
    else this.failures.push(`${what}: expected ${e}, got ${a}`);
  }

  /** @param {string} what @param {boolean} condition @param {unknown} [detail] */
  ok(what, condition, detail) {
    if (condition) this.passed++;
    else this.failures.push(`${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
  }
}

/** A fake upstream: `get(key)` answers at once, fails, or never answers at all (ignores its signal). */
function fakeClient(name, behaviour) {
  const seen = [];
  return {
    name,
    seen,
    get(key, traceId) {
      seen.push({ key, traceId });
      if (behaviour === 'fail') return Promise.reject(new Error(`${name} is down`));
      if (behaviour === 'silent') return new Promise(() => {});
      return Promise.resolve(`${name}:${key}`);
    },
  };
}

/** The code of what a promise rejected with, `'resolved'` when it did not. */
async function codeOf(promise) {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error !== null && typeof error === 'object' && 'code' in error ? error.code : `not a clientpool error: ${String(error)}`;
  }
}

/**
 * Runs the scenario with `lib` (the `clientpool` module's exports) and resolves with its report; never
 * rejects for a failed check, only for a crash of the scenario itself. With `diagnosticsChannel` (the
 * runtime's `node:diagnostics_channel`), it also checks that a call is heard on clientpool's channels.
 * @param {typeof import('../../src/index.ts')} lib
 * @param {{ diagnosticsChannel?: typeof import('node:diagnostics_channel') }} [host]
 */
export async function runScenario(lib, host = {}) {
  const { ClientPool, traceId, TRACE_ID, isClientPoolError } = lib;
  const report = new ScenarioReport();
  const use = (key) => (client, call) => client.get(key, call.get(TRACE_ID));

  // One pool with every feature: a breaker, retries on another client, a timeout per attempt, a pool-wide
  // limit, a per-client limit and the trace-ID middleware.
  const good = fakeClient('good', 'ok');
  const broken = fakeClient('broken', 'fail');
  const silent = fakeClient('silent', 'silent');
  const rateLimits = [];
  const pool = new ClientPool({
    breaker: { maxFailures: 2, cooldown: 60_000 },
    retry: { attempts: 3, backoff: { initial: 1, max: 1, jitter: 'none' } },
    timeout: 50,
    // Tokens that never come back within the run (one per 1 000 s), so that counts are exact.
    limit: { rate: 0.001, burst: 100 },
    maxWait: 0,
    middleware: [traceId()],
  });
  pool.onRateLimit((event) => rateLimits.push(`${event.scope}:${event.rejected}`));
  pool.add(good, { name: 'good', limit: { rate: 0.001, burst: 8 } });
  pool.add(broken, { name: 'broken' });
  pool.add(silent, { name: 'silent' });

  for (let i = 1; i <= 6; i++) {
    const value = await pool.run(use(`k${i}`), { method: 'get', traceId: `trace-${i}` }).catch((error) => `failed: ${String(error)}`);
    report.equal(`call ${i} is served by the good client after retries`, value, `good:k${i}`);
  }
  report.equal('the good client saw each call once, with its caller trace ID', good.seen, [1, 2, 3, 4, 5, 6].map((i) => ({ key: `k${i}`, traceId: `trace-${i}` })));
  report.ok('every retry kept its call trace ID', [...broken.seen, ...silent.seen].every((seen) => seen.traceId === `trace-${seen.key.slice(1)}`), [...broken.seen, ...silent.seen]);
  const states = Object.fromEntries(pool.members().map((member) => [member.name, member.state.kind]));
  report.equal('the failing and the silent client have open circuits', states, { good: 'closed', broken: 'open', silent: 'open' });
  report.equal('each bad client failed exactly maxFailures times before its circuit opened', [broken.seen.length, silent.seen.length], [2, 2]);

  await pool.run(use('g1'));
  await pool.run(use('g2'));
  const ids = good.seen.slice(-2).map((seen) => seen.traceId);
  report.ok('a call with no trace ID gets 32 random hex characters', ids.every((id) => typeof id === 'string' && /^[0-9a-f]{32}$/.test(id)), ids);
  report.ok('two generated trace IDs differ', ids[0] !== ids[1], ids);

  // The good client's own bucket (8 tokens) is now empty, and the other two are open: no client can take
  // the next call, which fails at once (maxWait 0) as rate limited by the client's bucket.
  report.equal('the good client has spent its own 8 tokens', Math.floor(pool.members().find((member) => member.name === 'good')?.tokens ?? -1), 0);
  report.equal('a call finding every client out of tokens or open is rate limited', await codeOf(pool.run(use('k9'))), 'ERR_RATE_LIMITED');
  report.equal('the refusal is one client-scope rate-limit event', rateLimits, ['client:true']);
  await pool.destroy();

  // The pool-wide limit on its own: two tokens, then refused at once.
  const limited = new ClientPool({ limit: { rate: 0.001, burst: 2 }, maxWait: 0 });
  const limitEvents = [];
  limited.onRateLimit((event) => limitEvents.push(`${event.scope}:${event.rejected}`));
  limited.add(fakeClient('one', 'ok'), { name: 'one' });
  const codes = [await codeOf(limited.run(use('a'))), await codeOf(limited.run(use('b'))), await codeOf(limited.run(use('c')))];
  report.equal('the pool-wide limit lets its burst through, then refuses', codes, ['resolved', 'resolved', 'ERR_RATE_LIMITED']);
  report.equal('the refusal is a pool-scope rate-limit event', limitEvents, ['pool:true']);
  await limited.close();

  // A timeout with nowhere to retry reaches the caller as ERR_TIMEOUT, a failure as ERR_CLIENT_CALL with
  // its cause, and an open circuit as ERR_ALL_CIRCUITS_OPEN.
  const lonely = new ClientPool({ timeout: 20, breaker: { maxFailures: 1, cooldown: 60_000 } });
  lonely.add(fakeClient('silent', 'silent'), { name: 'silent' });
  report.equal('a client that never answers times out', await codeOf(lonely.run(use('t'))), 'ERR_TIMEOUT');
  report.equal('its circuit is then open', await codeOf(lonely.run(use('t'))), 'ERR_ALL_CIRCUITS_OPEN');
  await lonely.destroy();

  const failing = new ClientPool({ breaker: false });
  failing.add(fakeClient('broken', 'fail'), { name: 'broken' });
  const failure = await failing.run(use('f')).then(() => undefined, (error) => error);
  report.ok('a failure is a clientpool error', isClientPoolError(failure), String(failure));
  report.equal('with the client error as its cause', [failure?.code, failure?.cause?.message], ['ERR_CLIENT_CALL', 'broken is down']);
  await failing.close();

  if (host.diagnosticsChannel !== undefined) await checkChannels(lib, host.diagnosticsChannel, report);
  return report;
}

/** A traced call publishes on `clientpool:call` (a TracingChannel) and `clientpool:attempt:start`. */
async function checkChannels(lib, diagnosticsChannel, report) {
  const heard = [];
  const tracing = diagnosticsChannel.tracingChannel(lib.CHANNELS.call);
  const handlers = {
    start: (message) => heard.push(`start:${message.method}`),
    end: () => heard.push('end'),
    asyncStart: (message) => heard.push(`asyncStart:${String(message.result)}`),
    asyncEnd: () => heard.push('asyncEnd'),
    error: (message) => heard.push(`error:${String(message.error?.code)}`),
  };
  const onAttempt = (message) => heard.push(`attempt:${message.call.clientName}`);
  tracing.subscribe(handlers);
  diagnosticsChannel.subscribe(lib.CHANNELS.attemptStart, onAttempt);
  try {
    const pool = new lib.ClientPool();
    pool.add(fakeClient('one', 'ok'), { name: 'one' });
    await pool.run((client) => client.get('d'), { method: 'diag' });
    await pool.close();
  } finally {
    tracing.unsubscribe(handlers);
    diagnosticsChannel.unsubscribe(lib.CHANNELS.attemptStart, onAttempt);
  }
  report.equal('a call is heard on the diagnostics channels', heard, ['start:diag', 'attempt:one', 'end', 'asyncStart:one:d', 'asyncEnd']);
}
