/**
 * What a JSON-RPC server's error codes mean for a pool: which blame the node (count against it, retry
 * elsewhere) and which blame the request (reach the caller once, unretried). Each chain family reuses
 * codes differently (-32007 is a rate limit on QuickNode's Ethereum nodes and "slot skipped" on Solana),
 * so the tables are per dialect.
 */
export interface JsonRpcDialect {
  /** For messages: `ethereum`, `solana`. */
  readonly name: string;
  /** Codes that mean "this node is bad": overloaded, behind, unhealthy, internal failure. */
  readonly nodeCodes: ReadonlySet<number>;
  /** Codes that mean "your request is bad": reverted, invalid params, unknown method, rejected by the user. */
  readonly requestCodes: ReadonlySet<number>;
  /**
   * A request code whose message can still blame the node (geth's catch-all -32000 says both "execution
   * reverted" and "header not found"), and the messages that do.
   */
  readonly ambiguous?: { readonly code: number; readonly nodeMessage: RegExp };
}

/**
 * Ethereum (EIP-1474, EIP-1193, geth, and the providers' own codes).
 *
 * Node: -32002 resource unavailable, -32005 limit exceeded, -32603 internal error, -32007 and 429 (rate
 * limits sent in a JSON-RPC body), 4900/4901 disconnected. Request: 3 execution reverted, -32000 (unless
 * its message blames the node: "header not found", "missing trie node", a timeout, a rate limit...),
 * -32001 resource not found, -32003 transaction rejected, -32004 method not supported, -32006 version
 * not supported, -32600 invalid request, -32601 method not found, -32602 invalid params, -32700 parse
 * error, 4001/5000 user rejected, 4100 unauthorised, 4200 unsupported method, 4902 unknown chain,
 * 5700-5760 wallet capability errors (EIP-5792).
 */
export const ETHEREUM: JsonRpcDialect = Object.freeze({
  name: 'ethereum',
  nodeCodes: new Set([-32002, -32005, -32603, -32007, 429, 4900, 4901]),
  requestCodes: new Set([3, -32000, -32001, -32003, -32004, -32006, -32600, -32601, -32602, -32700, 4001, 4100, 4200, 4902, 5000, 5700, 5710, 5720, 5730, 5740, 5750, 5760]),
  ambiguous: {
    code: -32000,
    nodeMessage: /header not found|missing trie node|unknown block|not synced|syncing|timed? ?out|timeout|rate limit|too many requests|capacity|overloaded|unavailable|internal error|upstream/i,
  },
});

/**
 * Solana (Agave's `RpcCustomError` codes, as @solana/errors names them).
 *
 * Node: -32004 block not available, -32005 node unhealthy (behind), -32008 no snapshot, -32012 scan
 * error, -32014 block status not available yet, -32016 min context slot not reached, -32019 long-term
 * storage unreachable, -32021 no slot history, -32603 internal error, 429. Request: -32001 block cleaned
 * up, -32002 preflight failure, -32003 signature verification failure, -32006 precompile verification
 * failure, -32007 slot skipped, -32009 long-term storage slot skipped, -32010 key excluded from secondary
 * index, -32011 transaction history not available, -32013 signature length mismatch, -32015 unsupported
 * transaction version, -32017 epoch rewards period active, -32018 slot not epoch boundary, -32020 filter
 * transaction not found, -32600, -32601, -32602, -32700.
 */
export const SOLANA: JsonRpcDialect = Object.freeze({
  name: 'solana',
  nodeCodes: new Set([-32004, -32005, -32008, -32012, -32014, -32016, -32019, -32021, -32603, 429]),
  requestCodes: new Set([-32001, -32002, -32003, -32006, -32007, -32009, -32010, -32011, -32013, -32015, -32017, -32018, -32020, -32600, -32601, -32602, -32700]),
});
