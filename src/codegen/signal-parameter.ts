import * as ts from 'typescript';

/** Where a method takes an `AbortSignal`: the options parameter at `index` has an optional `signal`. */
export interface SignalParameter {
  readonly index: number;
  /** The parameter is optional and every property of its type is, so `{ signal }` alone is a valid value. */
  readonly create: boolean;
}

/**
 * The first of the first `count` parameters of `signature` whose type is an options object with an
 * optional `signal` property that accepts an `AbortSignal` (undici's `request(options)`), or
 * `undefined`. The wrapper then passes the attempt's `call.signal` there unless the caller gave one.
 * @param abortSignal The global `AbortSignal` type; without it (no DOM or Node types) nothing is found.
 */
export function findSignalParameter(
  checker: ts.TypeChecker,
  signature: ts.Signature,
  count: number,
  abortSignal: ts.Type | undefined,
): SignalParameter | undefined {
  if (abortSignal === undefined) return undefined;
  const parameters = signature.getParameters().slice(0, count);
  for (const [index, parameter] of parameters.entries()) {
    const declaration = parameter.valueDeclaration;
    if (declaration === undefined || !ts.isParameter(declaration) || declaration.dotDotDotToken !== undefined) continue;
    const type = checker.getNonNullableType(checker.getTypeOfSymbol(parameter));
    if ((type.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection)) === 0 || type.getCallSignatures().length > 0) continue;
    const signal = checker.getPropertyOfType(type, 'signal');
    if (signal === undefined || (signal.flags & ts.SymbolFlags.Optional) === 0) continue;
    if (!checker.isTypeAssignableTo(abortSignal, checker.getTypeOfSymbol(signal))) continue;
    const allOptional = checker.getPropertiesOfType(type).every((property) => (property.flags & ts.SymbolFlags.Optional) !== 0);
    return { index, create: checker.isOptionalParameter(declaration) && allOptional && index === parameters.length - 1 };
  }
  return undefined;
}
