import type { LanguageModelV4, LanguageModelV4Usage } from '@ai-sdk/provider';
import type { Call } from '../call.js';
import { catchRejection } from '../jsonrpc/warn.js';

/** One model call's token usage, as given to `onUsage`. */
export interface UsageReport<M extends LanguageModelV4 = LanguageModelV4> {
  /** The model of the pool that served the call. */
  readonly client: M;
  /** Its name in the pool. */
  readonly clientName: string;
  /** `'generate'` (`doGenerate`) or `'stream'` (`doStream`). */
  readonly kind: 'generate' | 'stream';
  /**
   * The usage the model reported: `inputTokens.total` and `outputTokens.total` (tokens; `undefined`
   * when the provider did not say), their breakdowns (cache reads and writes, reasoning) and `raw`.
   */
  readonly usage: LanguageModelV4Usage;
}

/** The `onUsage` option: told each call's usage once the model reported it. */
export type UsageListener<M extends LanguageModelV4 = LanguageModelV4> = (report: UsageReport<M>) => void;

/**
 * `onUsage`, guarded: a listener that throws (or an `async` one that rejects) never fails the call or
 * breaks the stream; the first failure of each pooled model is reported as a `CLIENTPOOL_CALLBACK_ERROR`
 * process warning, as the pool reports its own callbacks.
 */
export function guardedUsageListener<M extends LanguageModelV4>(listener: UsageListener<M> | undefined): (report: UsageReport<M>) => void {
  if (listener === undefined) return () => {};
  let hasWarned = false;
  const warn = (error: unknown): void => {
    if (hasWarned) return;
    hasWarned = true;
    const text = `clientpool: onUsage failed (reported once per pooled model): ${safeString(error)}`;
    globalThis.process?.emitWarning(text, { code: 'CLIENTPOOL_CALLBACK_ERROR', detail: 'The call went on; this usage was not recorded.' });
  };
  return (report) => {
    try {
      // Any thenable, a promise of another realm included: its rejection must not go unhandled.
      catchRejection(listener(report), warn);
    } catch (error) {
      warn(error);
    }
  };
}

function safeString(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
  } catch {
    return '(unprintable)';
  }
}

/**
 * Settle what a model call really cost on the limits it reserved from (`call.settle()`): `tokens` (input
 * and output), `inputTokens`, `outputTokens`, each only when the provider reported it. Usage that is not a
 * count (a provider's bug: negative, NaN) is left unsettled rather than failing the call.
 */
export function settleUsage(call: Call<unknown>, usage: LanguageModelV4Usage | undefined): void {
  let input: number | undefined;
  let output: number | undefined;
  try {
    input = count(usage?.inputTokens.total);
    output = count(usage?.outputTokens.total);
  } catch {
    // A usage object without its parts (a provider's bug) settles nothing: the reservation stands.
    return;
  }
  const cost: Record<string, number> = {};
  // The total only when both parts are known: half a figure would refund what the other half used.
  if (input !== undefined && output !== undefined && input + output <= Number.MAX_SAFE_INTEGER) cost['tokens'] = input + output;
  if (input !== undefined) cost['inputTokens'] = input;
  if (output !== undefined) cost['outputTokens'] = output;
  if (Object.keys(cost).length > 0) call.settle(cost);
}

/** A token count the provider reported, or `undefined` for one that is not (negative, NaN, past 2^53-1). */
function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
