import { describe, expect, it } from 'vitest';
import { CallbackError } from '../../src/errors.js';
import { methodLabel } from '../../src/label.js';
import { commandClassName, commandLabeller } from '../../src/wrapping/command-label.js';

class GetObjectCommand {
  readonly input: { readonly Key: string };
  constructor(input: { readonly Key: string }) {
    this.input = input;
  }
}

const snake = (path: string): string => methodLabel(path, 'snake');
const asIs = (path: string): string => methodLabel(path, 'as-is');

describe('commandClassName', () => {
  it('is the class name of a class instance, undefined for a plain, null-prototype or unreadable object', () => {
    const unreadable = new Proxy({}, { get: () => { throw new Error('trap'); } });
    const anonymous = new (class {
      readonly id = 1;
    })();
    expect([commandClassName(new GetObjectCommand({ Key: 'k' })), commandClassName({ Key: 'k' }), commandClassName(Object.create(null) as object), commandClassName(unreadable), commandClassName(anonymous)]).toEqual([
      'GetObjectCommand',
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('commandClassName: built-in objects', () => {
  it('is undefined for arrays, maps, dates and other built-in objects, so the method keeps its own label', () => {
    for (const value of [[], new Map(), new Set(), new Date(0), /x/, new Uint8Array(1), Buffer.from('x'), new URL('http://x')]) expect(commandClassName(value), Object.prototype.toString.call(value)).toBeUndefined();
    const Own = {
      Map: class Map {
        readonly size = 0;
      },
    }.Map;
    expect(commandClassName(new Own())).toBe('Map'); // a class of your own that shares a built-in's name is a command
  });
});

describe('commandLabeller: the default, as clientpool-codegen --command-methods labels', () => {
  it('puts the class name in the method\'s place, in the label style', () => {
    const command = new GetObjectCommand({ Key: 'k' });
    expect(commandLabeller(['send'], 'send', snake, undefined)(command)).toBe('get_object_command');
    expect(commandLabeller(['s3', 'send'], 's3.send', snake, undefined)(command)).toBe('s3.get_object_command');
    expect(commandLabeller(['s3Client', 'send'], 's3Client.send', asIs, undefined)(command)).toBe('s3Client.GetObjectCommand');
  });

  it('falls back to the method\'s label for a plain object or anything that is not an object', () => {
    const label = commandLabeller(['send'], 'send', snake, undefined);
    expect([label({ Key: 'k' }), label('GET k'), label(undefined), label(null)]).toEqual(['send', 'send', 'send', 'send']);
  });

  it('asks the label style once per class, not per call', () => {
    const seen: string[] = [];
    const label = commandLabeller(['send'], 'send', (path) => (seen.push(path), snake(path)), undefined);
    label(new GetObjectCommand({ Key: 'a' }));
    label(new GetObjectCommand({ Key: 'b' }));
    expect(seen).toEqual(['GetObjectCommand']);
  });
});

describe('commandLabeller with the commandLabel option', () => {
  it('uses its result as the label, given the command and the method path', () => {
    const seen: unknown[] = [];
    const label = commandLabeller(['s3', 'send'], 's3.send', snake, (command, path) => (seen.push(command, path), 'get_object'));
    const command = new GetObjectCommand({ Key: 'k' });
    expect(label(command)).toBe('get_object');
    expect(seen).toEqual([command, 's3.send']);
    expect(label('not an object')).toBe('s3.send');
  });

  it('a throw is a CallbackError with the cause; a result that is not a non-empty string is a CallbackError', () => {
    const failure = new Error('no name');
    const thrower = commandLabeller(['send'], 'send', snake, () => {
      throw failure;
    });
    expect(() => thrower({})).toThrow(expect.objectContaining({ code: 'ERR_CALLBACK', callback: 'proxy options.commandLabel', cause: failure }) as Error);
    expect(() => commandLabeller(['send'], 'send', snake, () => 5 as unknown as string)({})).toThrow(/proxy options\.commandLabel returned number for send, not a label/);
    expect(() => commandLabeller(['send'], 'send', snake, () => '')({})).toThrow(CallbackError);
  });
});
