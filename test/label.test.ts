import { describe, expect, it } from 'vitest';
import { methodLabel, toSnakeCase } from '../src/label.js';

describe('toSnakeCase', () => {
  it.each([
    ['getSlot', 'get_slot'],
    ['getHTTPResponse', 'get_http_response'],
    ['HTTPServer', 'http_server'],
    ['sha256Sum', 'sha256_sum'],
    ['getV2Data', 'get_v2_data'],
    ['hgetallBuffer', 'hgetall_buffer'],
    ['already_snake', 'already_snake'],
    ['get', 'get'],
    ['_private', '_private'],
    ['get-thing', 'get-thing'],
  ])('%s → %s', (name, label) => {
    expect(toSnakeCase(name)).toBe(label);
  });
});

describe('methodLabel', () => {
  it('converts in snake style and keeps the name as-is otherwise', () => {
    expect(methodLabel('getSlot', 'snake')).toBe('get_slot');
    expect(methodLabel('getSlot', 'as-is')).toBe('getSlot');
  });
});
