import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { MethodFilter } from '../../src/wrapping/method-filter.js';
import { checkPathsOn, optionPath } from '../../src/wrapping/option-paths.js';

const filter = new MethodFilter(undefined, undefined);
const paths = (...dotted: string[]) => dotted.map((path) => optionPath(`proxy options.methods.${path}`, path, filter));

const ai = { chat: { completions: { create: () => 'ok' } }, baseURL: 'https://ai.example', tags: ['eu'] };

describe('optionPath', () => {
  it('splits a dotted path into its steps, naming the option', () => {
    expect(optionPath('proxy options.signal.chat.completions.create', 'chat.completions.create', filter)).toEqual({
      option: 'proxy options.signal.chat.completions.create',
      path: 'chat.completions.create',
      steps: ['chat', 'completions', 'create'],
    });
  });

  it.each(['', '.get', 'get.', 'a..b'])('refuses %j: an empty step', (path) => {
    expect(() => optionPath('proxy options.methods', path, filter)).toThrow(InvalidOptionError);
  });

  it('refuses a path through an excluded resource, and an excluded or default-excluded method', () => {
    const excluding = new MethodFilter(undefined, ['chat', 'flush*']);
    expect(() => optionPath('o', 'chat.completions.create', excluding)).toThrow(/chat is left out: excluded/);
    expect(() => optionPath('o', 'flushall', excluding)).toThrow(/flushall is left out: excluded/);
    expect(() => optionPath('o', 'admin.disconnect', filter)).toThrow(/admin\.disconnect is left out: lifecycle; include it: include: \['disconnect'\]/);
    // A default exclusion applies to the method only, not to a resource of the same name.
    expect(optionPath('o', 'close.all', filter).steps).toEqual(['close', 'all']);
  });
});

describe('checkPathsOn', () => {
  it('passes paths that name a method under resources', () => {
    expect(() => checkPathsOn([ai], paths('chat.completions.create'))).not.toThrow();
  });

  it.each([
    ['chat.completions.remove', 'chat.completions.remove is not a method of the client'],
    ['chat', 'chat is not a method of the client'],
    ['baseURL', 'baseURL is not a method of the client'],
    ['tags.push', 'tags is not a resource holding methods'],
    ['chats.completions.create', 'chats is not a resource holding methods'],
  ])('refuses %s: %s', (path, problem) => {
    const error: unknown = (() => {
      try {
        checkPathsOn([ai], paths(path));
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ option: `proxy options.methods.${path}`, value: path });
    expect((error as Error).message).toContain(`(${problem}: misspelt?)`);
  });

  it('a path passes when any client has the method there, and a getter that throws counts as none', () => {
    const throwing = Object.defineProperty({}, 'chat', { get: () => { throw new Error('getter'); } });
    expect(() => checkPathsOn([throwing, ai], paths('chat.completions.create'))).not.toThrow();
    expect(() => checkPathsOn([throwing], paths('chat.completions.create'))).toThrow(/chat is not a resource holding methods/);
  });
});
