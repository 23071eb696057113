// A nested resource that is itself callable (a function with methods, as got's instances or tRPC
// clients): the proxy runs both the call and its methods through the pool.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';

describe('pool.proxy(): a callable resource', () => {
  it('calls it as a method and reads its methods as a resource, each labelled by its path', async () => {
    const users = Object.assign(async (id: string) => Promise.resolve(`user ${id}`), { list: async (): Promise<string[]> => Promise.resolve(['a', 'b']) });
    class Api {
      readonly users = users;
    }
    const labels: string[] = [];
    const pool = new ClientPool<Api>({ middleware: [{ name: 'labels', execute: (call, next) => (labels.push(call.method), next(call)) }] });
    pool.add(new Api(), { name: 'a' });
    const api = pool.proxy();
    await expect(api.users('1')).resolves.toBe('user 1');
    await expect(api.users.list()).resolves.toEqual(['a', 'b']);
    expect(api.users.list).toBe(api.users.list); // made once
    expect(labels).toEqual(['users', 'users.list']);
  });
});
