import { catchRejection, warnOnce } from '../jsonrpc/warn.js';

/**
 * Where a pool transport reports the slots its nodes answer with: the seam for slot-aware routing, until
 * the pool knows heights itself. Called with the client's name, the slot, and the method that told it.
 */
export type SlotListener = (clientName: string, slot: bigint, method: string) => unknown;

/**
 * Read the slots a successful response tells: a `getSlot` result, or the `context.slot` of an
 * `RpcResponse`-shaped result (`getBalance`, `getLatestBlockhash`, `getAccountInfo`...). A listener that
 * throws (or rejects) is reported once as a `CLIENTPOOL_CALLBACK_ERROR` warning; the request goes on.
 */
export function reportSlots(listener: SlotListener, warned: Set<string>, clientName: string, payload: unknown, response: unknown): void {
  if (!Array.isArray(response)) {
    reportOne(listener, warned, clientName, methodOf(payload), response);
    return;
  }
  // A batch's responses carry no method: find each one's request by id.
  const methods = new Map<unknown, string>();
  if (Array.isArray(payload)) for (const item of payload as unknown[]) methods.set(idOf(item), methodOf(item));
  for (const item of response as unknown[]) reportOne(listener, warned, clientName, methods.get(idOf(item)) ?? '', item);
}

function reportOne(listener: SlotListener, warned: Set<string>, clientName: string, method: string, response: unknown): void {
  if (typeof response !== 'object' || response === null) return;
  const result = (response as { result?: unknown }).result;
  let slot: bigint | undefined;
  if (method === 'getSlot') slot = asSlot(result);
  else if (typeof result === 'object' && result !== null) {
    const context = (result as { context?: unknown }).context;
    if (typeof context === 'object' && context !== null) slot = asSlot((context as { slot?: unknown }).slot);
  }
  if (slot === undefined) return;
  try {
    const returned: unknown = listener(clientName, slot, method);
    catchRejection(returned, (error) => warnOnce(warned, 'onSlot', error, 'The slot was dropped.'));
  } catch (error) {
    warnOnce(warned, 'onSlot', error, 'The slot was dropped; the request went on.');
  }
}

/** The most a slot can be: Solana's slots are u64. */
const MAX_SLOT = 2n ** 64n - 1n;

function asSlot(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n && value <= MAX_SLOT ? value : undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  return undefined;
}

function methodOf(request: unknown): string {
  const method = typeof request === 'object' && request !== null ? (request as { method?: unknown }).method : undefined;
  return typeof method === 'string' ? method : '';
}

/** A JSON-RPC id as a map key: kit may parse a numeric id back as a bigint. */
function idOf(message: unknown): unknown {
  const id = typeof message === 'object' && message !== null ? (message as { id?: unknown }).id : undefined;
  return typeof id === 'bigint' || typeof id === 'number' ? String(id) : id;
}
