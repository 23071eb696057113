import * as ts from 'typescript';
import type { ClientMethod } from './read-type.js';
import type { SkipReason } from './select.js';

/**
 * How many leading parameters of `signature` the wrapper keeps, or `undefined` when the signature is
 * callback style and is left out. A last parameter that is a callback makes the call report its
 * result twice (the promise resolves while the callback may get the error), so a breaker would count
 * a failure as a success: a required callback drops the overload, an optional one is dropped from it.
 */
export function keptParameterCount(checker: ts.TypeChecker, signature: ts.Signature): number | undefined {
  const parameters = signature.getParameters();
  const last = parameters.at(-1);
  if (last !== undefined && endsWithCallback(checker, last)) return undefined;
  if (last === undefined || !isCallback(checker, last)) return parameters.length;
  const declaration = last.valueDeclaration;
  const optional = declaration !== undefined && ts.isParameter(declaration) && checker.isOptionalParameter(declaration);
  return optional ? parameters.length - 1 : undefined;
}

/** A rest parameter typed as a tuple whose last element is a callback (ioredis: `...args: [...keys: RedisKey[], callback: Callback<number>]`). */
function endsWithCallback(checker: ts.TypeChecker, parameter: ts.Symbol): boolean {
  const declaration = parameter.valueDeclaration;
  if (declaration === undefined || !ts.isParameter(declaration) || declaration.dotDotDotToken === undefined) return false;
  const type = checker.getTypeOfSymbol(parameter);
  if (!checker.isTupleType(type)) return false;
  const elements = checker.getTypeArguments(type as ts.TypeReference);
  const lastElement = elements.at(-1);
  const target = (type as ts.TypeReference).target as ts.TupleType;
  const label = target.labeledElementDeclarations?.at(-1)?.name;
  const labelText = label !== undefined && ts.isIdentifier(label) ? label.text : '';
  return lastElement !== undefined && isCallbackType(checker, lastElement, labelText);
}

/**
 * A Node-style callback: a function-typed parameter named `callback`, `cb` or `done`, or one returning
 * nothing whose first parameter is named `err`/`error`. Other function parameters (a `decode`
 * function, a mapper) are data and are kept.
 */
function isCallback(checker: ts.TypeChecker, parameter: ts.Symbol): boolean {
  const declaration = parameter.valueDeclaration;
  if (declaration === undefined || !ts.isParameter(declaration) || declaration.dotDotDotToken !== undefined) return false;
  return isCallbackType(checker, checker.getTypeOfSymbol(parameter), parameter.name);
}

function isCallbackType(checker: ts.TypeChecker, parameterType: ts.Type, name: string): boolean {
  const type = checker.getNonNullableType(parameterType);
  const signatures = type.isUnion() ? type.types.flatMap((member) => member.getCallSignatures()) : type.getCallSignatures();
  if (signatures.length === 0 || type.getConstructSignatures().length > 0) return false;
  if (/^(callback|cb|done)$/i.test(name)) return true;
  return signatures.every((signature) => {
    const first = signature.getParameters()[0];
    const returns = signature.getReturnType();
    return first !== undefined && /^err(or)?$/i.test(first.name) && (returns.flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined)) !== 0;
  });
}

/**
 * Why a method is left out although its name is on no default list: it is Node's (declared in
 * `@types/node`, so inherited from `EventEmitter` or a stream), or it hands back a stream or an event
 * source synchronously, whose errors arrive after the pool has counted the call a success.
 */
export function inferredSkipReason(checker: ts.TypeChecker, method: ClientMethod): SkipReason | undefined {
  const declarations = method.symbol.declarations ?? [];
  if (declarations.length > 0 && declarations.every((declaration) => isNodeDeclaration(declaration.getSourceFile()))) {
    return 'event emitter';
  }
  if (method.signatures.length > 0 && method.signatures.every((signature) => isStreamLike(checker, signature.getReturnType()))) {
    return 'returns a stream or event source';
  }
  return undefined;
}

/** A declaration of Node itself (`@types/node`), not of the client's package. */
export function isNodeDeclaration(file: ts.SourceFile): boolean {
  return /[\\/]node_modules[\\/]@types[\\/]node[\\/]/.test(file.fileName);
}

/**
 * Not a promise, and a stream or event source: it has `pipe`, or `on` with `emit`, `off` or `once`
 * (openai's `ChatCompletionRunner`, which emits without a public `emit`), or `Symbol.asyncIterator`.
 */
function isStreamLike(checker: ts.TypeChecker, type: ts.Type): boolean {
  if (type.getProperty('then') !== undefined) return false;
  const has = (name: string): boolean => checker.getPropertyOfType(type, name) !== undefined;
  const asyncIterable = checker.getPropertiesOfType(type).some((property) => property.name.startsWith('__@asyncIterator@'));
  return has('pipe') || (has('on') && (has('emit') || has('off') || has('once'))) || asyncIterable;
}
