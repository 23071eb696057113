// isModelFailure: what counts against a model (and is retried on another), what is the provider's answer.
import { APICallError, InvalidPromptError, UnsupportedFunctionalityError } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { ClientCallError, TimeoutError } from '../../src/index.js';
import { isModelFailure, modelErrorStatus } from '../../src/ai/index.js';
import { apiError } from './mock-models.js';

describe('isModelFailure', () => {
  it.each([
    [500, true],
    [502, true],
    [503, true],
    [529, true],
    [429, true],
    [408, true],
    [401, true],
    [402, true],
    [403, true],
    [404, true],
    [400, false],
    [413, false],
    [422, false],
    [451, false],
  ])('an APICallError with status %i is a failure: %s', (status, isFailure) => {
    expect(isModelFailure(apiError(status))).toBe(isFailure);
  });

  it('an error with no HTTP status is a failure: a network error, an APICallError without a status, a timeout', () => {
    expect(isModelFailure(new TypeError('fetch failed'))).toBe(true);
    expect(isModelFailure(new APICallError({ message: 'Cannot connect to API', url: 'u', requestBodyValues: {}, cause: new Error('ECONNREFUSED') }))).toBe(true);
    expect(isModelFailure(new TimeoutError(100, 'm0'))).toBe(true);
    expect(isModelFailure('a string')).toBe(true);
    expect(isModelFailure(undefined)).toBe(true);
  });

  it("the SDK's own request errors are answers: every model would refuse the request alike", () => {
    expect(isModelFailure(new InvalidPromptError({ prompt: '', message: 'empty' }))).toBe(false);
    expect(isModelFailure(new UnsupportedFunctionalityError({ functionality: 'tools' }))).toBe(false);
  });

  it('reads the status along the cause chain: a clientpool error wrapping a 400 is an answer, one wrapping a 503 a failure', () => {
    expect(isModelFailure(new ClientCallError(apiError(400), 'm0', 'generate'))).toBe(false);
    expect(isModelFailure(new ClientCallError(apiError(503), 'm0', 'generate'))).toBe(true);
  });

  it('reads an OpenAI SDK style numeric status too', () => {
    expect(isModelFailure(Object.assign(new Error('bad request'), { status: 400 }))).toBe(false);
    expect(modelErrorStatus(Object.assign(new Error('x'), { status: 503 }))).toBe(503);
  });

  it('never throws: a cyclic cause chain or a throwing getter counts as a failure', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b });
    expect(isModelFailure(a)).toBe(true);
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); } });
    expect(isModelFailure(hostile)).toBe(true);
    expect(modelErrorStatus(hostile)).toBeUndefined();
  });
});
