import { describe, expect, it } from 'vitest';
import { HttpRequestError, InternalRpcError, InvalidParamsRpcError, LimitExceededRpcError, RpcRequestError, TimeoutError as ViemTimeoutError, UserRejectedRequestError } from 'viem';
import { SolanaError, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_NODE_UNHEALTHY, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SLOT_SKIPPED, SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR } from '@solana/kit';
import { ClientCallError, TimeoutError } from '../../src/index.js';
import { classifyJsonRpcError, ETHEREUM, isNodeError, isSolanaNodeError, JsonRpcResponseError, SOLANA } from '../../src/jsonrpc/index.js';

const rpc = (code: number, message = 'error', data?: unknown): RpcRequestError => new RpcRequestError({ body: { method: 'eth_call' }, error: { code, message, data }, url: 'http://127.0.0.1' });
const http = (status: number): HttpRequestError => new HttpRequestError({ url: 'http://127.0.0.1', status, body: { method: 'eth_blockNumber' } });
const wrapped = (error: Error): ClientCallError => new ClientCallError(error, 'node-0', 'eth_call');

describe('classifyJsonRpcError on Ethereum', () => {
  it.each([
    [3, 'execution reverted', 'request'],
    [-32000, 'execution reverted', 'request'],
    [-32000, 'nonce too low', 'request'],
    [-32000, 'header not found', 'node'],
    [-32000, 'missing trie node abc', 'node'],
    [-32000, 'request timed out', 'node'],
    [-32001, 'resource not found', 'request'],
    [-32002, 'resource unavailable', 'node'],
    [-32003, 'transaction rejected', 'request'],
    [-32004, 'method not supported', 'request'],
    [-32005, 'limit exceeded', 'node'],
    [-32007, '100/second request limit reached', 'node'],
    [-32600, 'invalid request', 'request'],
    [-32601, 'method not found', 'request'],
    [-32602, 'invalid params', 'request'],
    [-32603, 'internal error', 'node'],
    [-32700, 'parse error', 'request'],
    [429, 'too many requests', 'node'],
    [4001, 'user rejected', 'request'],
    [4900, 'disconnected', 'node'],
    [5000, 'user rejected (CAIP-25)', 'request'],
  ])('JSON-RPC code %i (%s) blames the %s', (code, message, verdict) => {
    expect(classifyJsonRpcError(rpc(code, message))).toBe(verdict);
    // As the pool's isFailure sees it: wrapped by the pool, and by viem's typed errors.
    expect(isNodeError(wrapped(rpc(code, message)))).toBe(verdict === 'node');
  });

  it.each([
    [500, 'node'],
    [502, 'node'],
    [503, 'node'],
    [504, 'node'],
    [429, 'node'],
    [408, 'node'],
    [401, 'node'],
    [403, 'node'],
    [404, 'node'],
    [400, 'request'],
    [413, 'request'],
    [422, 'request'],
  ])('HTTP status %i blames the %s', (status, verdict) => {
    expect(classifyJsonRpcError(wrapped(http(status)))).toBe(verdict);
  });

  it('reads viem typed errors through to the code of their cause', () => {
    expect(isNodeError(new InternalRpcError(rpc(-32603)))).toBe(true);
    expect(isNodeError(new LimitExceededRpcError(rpc(-32005)))).toBe(true);
    expect(isNodeError(new InvalidParamsRpcError(rpc(-32602)))).toBe(false);
    expect(isNodeError(new UserRejectedRequestError(new Error('no')))).toBe(false);
  });

  it('a JSON-RPC code wins over the HTTP status it came with (a 400 with -32603 blames the node)', () => {
    const error = new RpcRequestError({ body: {}, error: { code: -32603, message: 'internal' }, url: 'u', status: 400 });
    expect(isNodeError(error)).toBe(true);
  });

  it('timeouts blame the node: the pool TimeoutError and viem TimeoutError', () => {
    expect(isNodeError(new TimeoutError(100, 'node-0'))).toBe(true);
    expect(isNodeError(new ViemTimeoutError({ body: {}, url: 'u' }))).toBe(true);
  });

  it('an error nothing recognises blames the node: a reset connection, fetch failed, a string', () => {
    expect(isNodeError(wrapped(new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) })))).toBe(true);
    expect(isNodeError('boom')).toBe(true);
    expect(isNodeError(undefined)).toBe(true);
  });

  it('never throws, and ends on a cyclic cause chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b });
    expect(isNodeError(a)).toBe(true);
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    expect(isNodeError(hostile)).toBe(true);
  });

  it('a code only another dialect knows goes on down the chain', () => {
    // -32016 (Solana: min context slot not reached) means nothing on Ethereum: the status below decides.
    const error = Object.assign(new Error('x'), { code: -32016, cause: Object.assign(new Error('y'), { status: 400 }) });
    expect(classifyJsonRpcError(error, ETHEREUM)).toBe('request');
    expect(classifyJsonRpcError(error, SOLANA)).toBe('node');
  });
});

describe('classifyJsonRpcError on Solana', () => {
  it.each([
    [-32001, 'request'],
    [-32002, 'request'],
    [-32004, 'node'],
    [-32005, 'node'],
    [-32007, 'request'],
    [-32009, 'request'],
    [-32014, 'node'],
    [-32015, 'request'],
    [-32016, 'node'],
    [-32602, 'request'],
    [-32603, 'node'],
  ])('a response error %i blames the %s', (code, verdict) => {
    expect(isSolanaNodeError(new JsonRpcResponseError(code, 'x', undefined, {}))).toBe(verdict === 'node');
  });

  it('-32007 is a rate limit on Ethereum but a skipped slot on Solana', () => {
    const error = new JsonRpcResponseError(-32007, 'slot skipped', undefined, {});
    expect(isNodeError(error)).toBe(true);
    expect(isSolanaNodeError(error)).toBe(false);
  });

  it('reads kit errors: the HTTP status of a transport error, the server code of a JSON-RPC one, bigint codes', () => {
    const headers = new Headers();
    expect(isSolanaNodeError(wrapped(new SolanaError(SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR, { headers, message: 'Service Unavailable', statusCode: 503 })))).toBe(true);
    expect(isSolanaNodeError(new SolanaError(SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR, { headers, message: 'Bad Request', statusCode: 400 }))).toBe(false);
    expect(isSolanaNodeError(new SolanaError(SOLANA_ERROR__JSON_RPC__SERVER_ERROR_NODE_UNHEALTHY, { numSlotsBehind: 10 }))).toBe(true);
    expect(isSolanaNodeError(new SolanaError(SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SLOT_SKIPPED, { __serverMessage: 'skipped' }))).toBe(false);
    expect(isSolanaNodeError(Object.assign(new Error('x'), { code: -32005n }))).toBe(true);
  });
});
