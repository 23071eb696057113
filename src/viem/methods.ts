/**
 * The Ethereum JSON-RPC methods that keep their own name as the method label (`RunOptions.method`):
 * the execution API, `net_`/`web3_`, and the common `debug_`/`trace_`/`txpool_` methods. Any other
 * method is labelled `other`, so that metrics stay bounded whatever a caller sends; give
 * `methodLabel` to label differently.
 */
export const ETHEREUM_METHODS: ReadonlySet<string> = Object.freeze(
  new Set([
    'eth_accounts',
    'eth_blobBaseFee',
    'eth_blockNumber',
    'eth_call',
    'eth_chainId',
    'eth_coinbase',
    'eth_createAccessList',
    'eth_estimateGas',
    'eth_feeHistory',
    'eth_gasPrice',
    'eth_getBalance',
    'eth_getBlockByHash',
    'eth_getBlockByNumber',
    'eth_getBlockReceipts',
    'eth_getBlockTransactionCountByHash',
    'eth_getBlockTransactionCountByNumber',
    'eth_getCode',
    'eth_getFilterChanges',
    'eth_getFilterLogs',
    'eth_getLogs',
    'eth_getProof',
    'eth_getStorageAt',
    'eth_getTransactionByBlockHashAndIndex',
    'eth_getTransactionByBlockNumberAndIndex',
    'eth_getTransactionByHash',
    'eth_getTransactionCount',
    'eth_getTransactionReceipt',
    'eth_getUncleByBlockHashAndIndex',
    'eth_getUncleByBlockNumberAndIndex',
    'eth_getUncleCountByBlockHash',
    'eth_getUncleCountByBlockNumber',
    'eth_maxPriorityFeePerGas',
    'eth_newBlockFilter',
    'eth_newFilter',
    'eth_newPendingTransactionFilter',
    'eth_protocolVersion',
    'eth_sendRawTransaction',
    'eth_sendRawTransactionSync',
    'eth_simulateV1',
    'eth_syncing',
    'eth_uninstallFilter',
    'net_listening',
    'net_peerCount',
    'net_version',
    'web3_clientVersion',
    'web3_sha3',
    'debug_traceBlockByHash',
    'debug_traceBlockByNumber',
    'debug_traceCall',
    'debug_traceTransaction',
    'trace_block',
    'trace_call',
    'trace_filter',
    'trace_transaction',
    'txpool_content',
    'txpool_status',
  ]),
);

/**
 * Methods whose state lives on one node (a filter made on node A is unknown to node B): without a `key`
 * of its own, a transport sends them all with one key of its own, so that they stay on one node while
 * it is ready.
 */
export const FILTER_METHODS: ReadonlySet<string> = Object.freeze(
  new Set(['eth_newFilter', 'eth_newBlockFilter', 'eth_newPendingTransactionFilter', 'eth_getFilterChanges', 'eth_getFilterLogs', 'eth_uninstallFilter']),
);
