/**
 * HTTP statuses below 500 that say "this model or key is unusable now", not "this request is bad": a key
 * that is revoked (401), out of credit (402), forbidden the model (403), a model that does not exist on
 * this provider (404), a request the server gave up on (408), a rate limit (429). Another model of the
 * pool may serve the same request.
 */
const FAILING_4XX: ReadonlySet<number> = new Set([401, 402, 403, 404, 408, 429]);

/**
 * AI SDK errors raised before any request, about the request itself: every model would refuse it alike
 * (`name` is stable across copies of the SDK, where `instanceof` is not).
 */
const REQUEST_ERRORS: ReadonlySet<string> = new Set(['AI_InvalidPromptError', 'AI_InvalidArgumentError', 'AI_UnsupportedFunctionalityError']);

/** Links of a `cause` chain read at most: chains can be cyclic. */
const MAX_DEPTH = 8;

/**
 * Whether a model's error counts against it: the pool's `isFailure` for a pool of AI SDK language models
 * (`new ClientPool<LanguageModelV4>({ isFailure: isModelFailure })`). With it, the pool's default retry
 * rule retries exactly the failures on another model, and an answered error reaches the caller at once.
 *
 * - failure: HTTP 5xx; 401, 402, 403, 404, 408 and 429 (that key or model is unusable now); an error
 *   with no HTTP status (a network error, a timeout, a malformed response, an error part of a stream).
 * - answer: any other 4xx (400 invalid request, 413 prompt too large, 422, a content filter): the
 *   provider answered, another model would answer alike; and the SDK's own request errors
 *   (`InvalidPromptError`, `InvalidArgumentError`, `UnsupportedFunctionalityError`).
 *
 * The status is the first numeric `statusCode` (an `APICallError`'s) or `status` (an OpenAI SDK
 * error's) along the error's `cause` chain, so a clientpool error wrapping the model's is classified
 * alike. Never throws: an error that cannot be read counts as a failure.
 */
export function isModelFailure(error: unknown): boolean {
  try {
    let e: unknown = error;
    for (let depth = 0; depth < MAX_DEPTH && typeof e === 'object' && e !== null; depth++) {
      const status = statusOf(e);
      if (status !== undefined) return status >= 500 || status < 400 || FAILING_4XX.has(status);
      const name = (e as { name?: unknown }).name;
      if (typeof name === 'string' && REQUEST_ERRORS.has(name)) return false;
      e = (e as { cause?: unknown }).cause;
    }
  } catch {
    // A getter or Proxy that throws: nothing says the model answered.
  }
  return true;
}

/**
 * The HTTP status an error carries, if any: the first numeric `statusCode` or `status` along its `cause`
 * chain. Never throws.
 */
export function modelErrorStatus(error: unknown): number | undefined {
  try {
    let e: unknown = error;
    for (let depth = 0; depth < MAX_DEPTH && typeof e === 'object' && e !== null; depth++) {
      const status = statusOf(e);
      if (status !== undefined) return status;
      e = (e as { cause?: unknown }).cause;
    }
  } catch {
    // Unreadable: no status.
  }
  return undefined;
}

function statusOf(error: object): number | undefined {
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  if (isHttpStatus(statusCode)) return statusCode;
  const status = (error as { status?: unknown }).status;
  return isHttpStatus(status) ? status : undefined;
}

function isHttpStatus(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599;
}
