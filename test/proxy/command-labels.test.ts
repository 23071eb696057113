// pool.proxy() labels each call of a command method (`send(command)`, the AWS SDK's shape) by its command,
// as clientpool-codegen --command-methods does; commandLabel replaces the class name, which a minifier mangles.
import { describe, expect, it } from 'vitest';
import { ClientPool, type Middleware } from '../../src/index.js';

class GetObjectCommand {
  readonly input: { readonly Key: string };
  static readonly operation = 'GetObject';
  constructor(input: { readonly Key: string }) {
    this.input = input;
  }
}
class PutObjectCommand {
  readonly input: { readonly Key: string; readonly Body: string };
  static readonly operation = 'PutObject';
  constructor(input: { readonly Key: string; readonly Body: string }) {
    this.input = input;
  }
}

/** An AWS-SDK-like client: one `send` for every operation, and a nested resource with its own `send`. */
class S3Like {
  readonly admin = { send: (command: object): Promise<string> => Promise.resolve(`admin ${command.constructor.name}`) };
  send(command: GetObjectCommand | PutObjectCommand | { readonly op: string }): Promise<string> {
    return Promise.resolve('input' in command ? command.input.Key : command.op);
  }
  execute(command: object): Promise<string> {
    return Promise.resolve(command.constructor.name);
  }
}

function s3Pool(): { pool: ClientPool<S3Like>; labels: string[] } {
  const labels: string[] = [];
  const record: Middleware = { name: 'labels', execute: (call, next) => (labels.push(call.method), next(call)) };
  const pool = new ClientPool<S3Like>({ middleware: [record] });
  pool.add(new S3Like(), { name: 'a' });
  return { pool, labels };
}

describe('pool.proxy(): a label per command', () => {
  it('send is labelled by the command\'s class name in the label style, at any depth; a plain object gets the method\'s label', async () => {
    const { pool, labels } = s3Pool();
    const s3 = pool.proxy();
    await expect(s3.send(new GetObjectCommand({ Key: 'k' }))).resolves.toBe('k');
    await s3.send(new PutObjectCommand({ Key: 'k', Body: 'b' }));
    await s3.send({ op: 'raw' });
    await s3.admin.send(new GetObjectCommand({ Key: 'k' }));
    await pool.proxy({ label: 'as-is' }).send(new GetObjectCommand({ Key: 'k' }));
    await s3.execute(new GetObjectCommand({ Key: 'k' }));
    expect(labels).toEqual(['get_object_command', 'put_object_command', 'send', 'admin.get_object_command', 'GetObjectCommand', 'execute']);
  });

  it('commandMethods names other methods, and [] turns it off', async () => {
    const { pool, labels } = s3Pool();
    await pool.proxy({ commandMethods: ['execute'] }).execute(new PutObjectCommand({ Key: 'k', Body: 'b' }));
    await pool.proxy({ commandMethods: ['execute'] }).send(new PutObjectCommand({ Key: 'k', Body: 'b' }));
    await pool.proxy({ commandMethods: [] }).send(new GetObjectCommand({ Key: 'k' }));
    expect(labels).toEqual(['put_object_command', 'send', 'send']);
  });

  it('commandLabel gives the label from something a minified build keeps', async () => {
    const { pool, labels } = s3Pool();
    const operationOf = (command: object): string => {
      const operation: unknown = (command.constructor as { readonly operation?: unknown }).operation;
      return typeof operation === 'string' ? `s3.${operation}` : 's3.unknown';
    };
    const s3 = pool.proxy({ commandLabel: operationOf });
    await s3.send(new GetObjectCommand({ Key: 'k' }));
    await s3.send({ op: 'raw' });
    await s3.send(new PutObjectCommand({ Key: 'k', Body: 'b' }));
    expect(labels).toEqual(['s3.GetObject', 's3.unknown', 's3.PutObject']);
  });

  it('a commandLabel that throws or returns no label rejects the call with CallbackError before any client is used', async () => {
    const { pool, labels } = s3Pool();
    const failure = new Error('no operation');
    const throwing = pool.proxy({
      commandLabel: () => {
        throw failure;
      },
    });
    await expect(throwing.send(new GetObjectCommand({ Key: 'k' }))).rejects.toMatchObject({ code: 'ERR_CALLBACK', callback: 'proxy options.commandLabel', cause: failure });
    await expect(pool.proxy({ commandLabel: () => undefined as unknown as string }).send(new GetObjectCommand({ Key: 'k' }))).rejects.toMatchObject({ code: 'ERR_CALLBACK' });
    expect(labels).toEqual([]);
    expect(pool.members()[0]).toMatchObject({ successes: 0, failures: 0, refused: 0 });
    await expect(pool.proxy().send(new GetObjectCommand({ Key: 'k' }))).resolves.toBe('k');
  });
});
