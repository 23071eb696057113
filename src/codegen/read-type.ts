import * as ts from 'typescript';
import { CodegenError } from './errors.js';

/** One method of the client type, with every signature (more than one when overloaded). */
export interface ClientMethod {
  readonly name: string;
  readonly symbol: ts.Symbol;
  readonly signatures: readonly ts.Signature[];
}

/** The client type named by `--type`, as the checker sees it. */
export interface ClientType {
  /** The declared name (`Redis` for `export default class Redis`), which the output imports it as. */
  readonly name: string;
  /** The export the output imports: `name`, or `default`. */
  readonly exportName: string;
  readonly symbol: ts.Symbol;
  readonly type: ts.Type;
  /** The type's own type parameters; the wrapper class declares the same ones. */
  readonly typeParameters: readonly ts.TypeParameter[];
}

/** Find the exported class, interface or type alias `name` of `moduleSymbol`. */
export function findClientType(
  checker: ts.TypeChecker,
  moduleSymbol: ts.Symbol,
  name: string,
  sourceLabel: string,
): ClientType {
  const exports = checker.getExportsOfModule(moduleSymbol);
  // `export default class Client` is found by its declared name too.
  const exported =
    exports.find((symbol) => symbol.name === name) ??
    exports.find((symbol) => symbol.name === 'default' && declaredName(skipAlias(checker, symbol)) === name);
  const typeLike = ts.SymbolFlags.Class | ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias;
  if (exported === undefined) {
    const candidates = exports
      .filter((symbol) => (skipAlias(checker, symbol).flags & typeLike) !== 0)
      .map((symbol) => (symbol.name === 'default' ? `${declaredName(skipAlias(checker, symbol)) ?? 'an anonymous class'} (default)` : symbol.name))
      .sort();
    const hint = candidates.length === 0 ? 'it exports no class or interface' : `exported types: ${listSome(candidates)}`;
    throw new CodegenError('ERR_CODEGEN_TYPE_NOT_FOUND', `--type ${name}: ${sourceLabel} exports no type '${name}' (${hint})`);
  }
  const symbol = skipAlias(checker, exported);
  if ((symbol.flags & typeLike) === 0) {
    throw new CodegenError(
      'ERR_CODEGEN_TYPE_NOT_FOUND',
      `--type ${name}: '${name}' in ${sourceLabel} is a value, not a class, interface or type alias`,
    );
  }
  const type = checker.getDeclaredTypeOfSymbol(symbol);
  // The checker lists a primitive's apparent members (`String#charAt`); those are not a client.
  if (!isObjectLike(type)) {
    throw new CodegenError(
      'ERR_CODEGEN_NO_METHODS',
      `--type ${name}: '${name}' in ${sourceLabel} is not an object type, so it has no methods to wrap`,
    );
  }
  const localName = exported.name === 'default' ? defaultExportName(symbol) : name;
  return { name: localName, exportName: exported.name, symbol, type, typeParameters: declaredTypeParameters(checker, symbol, type) };
}

/** How the output names a default export: its declared name, else `Default` (`export default class {}`). */
function defaultExportName(symbol: ts.Symbol): string {
  return declaredName(symbol) ?? 'Default';
}

/** The name a declaration gives `symbol` (`Client` in `export default class Client`), which the symbol itself may not carry. */
function declaredName(symbol: ts.Symbol): string | undefined {
  if (symbol.name !== 'default') return symbol.name;
  const name = symbol.declarations?.map((declaration) => ts.getNameOfDeclaration(declaration)).find((node) => node !== undefined && ts.isIdentifier(node));
  return name !== undefined && ts.isIdentifier(name) ? name.text : undefined;
}

/**
 * The public methods of `type`, inherited ones included, in the checker's order (own members first).
 * Skipped: properties that are not callable, optional methods (a client may lack them), `private`
 * and `protected` members, `#private` and symbol-named members, and `constructor`.
 */
export function listMethods(checker: ts.TypeChecker, type: ts.Type): ClientMethod[] {
  const methods: ClientMethod[] = [];
  for (const symbol of checker.getPropertiesOfType(type)) {
    const name = symbol.name;
    // Symbol-named members are named `__@iterator@12`; `#private` ones `#name` or `__#3@#name`.
    if (/^(__@|__#|#)/.test(name) || name === 'constructor') continue;
    if ((symbol.flags & ts.SymbolFlags.Optional) !== 0 || !isPublic(symbol)) continue;
    const signatures = checker.getTypeOfSymbol(symbol).getCallSignatures();
    if (signatures.length > 0) methods.push({ name, symbol, signatures });
  }
  return methods;
}

/** A property of the client that may hold a nested resource (`openai.chat`), before looking inside it. */
export interface ResourceProperty {
  readonly name: string;
  readonly type: ts.Type;
}

/**
 * Public, non-optional, non-callable properties whose value is an object with at least one method
 * returning a promise, or holding such objects (up to `depth` levels down): an API resource such as
 * `openai.chat`. Plain data, primitives, arrays, and
 * objects of the standard library or of Node (`Set`, a socket) are not resources, and neither is a
 * synchronous helper such as a logger or a queue.
 */
export function listResourceProperties(checker: ts.TypeChecker, program: ts.Program, type: ts.Type, depth = 3): ResourceProperty[] {
  const resources: ResourceProperty[] = [];
  for (const symbol of checker.getPropertiesOfType(type)) {
    const name = symbol.name;
    if (/^(__@|__#|#)/.test(name) || (symbol.flags & (ts.SymbolFlags.Optional | ts.SymbolFlags.Method)) !== 0 || !isPublic(symbol)) continue;
    const valueType = checker.getTypeOfSymbol(symbol);
    if (!isObjectLike(valueType) || valueType.getCallSignatures().length > 0 || valueType.getConstructSignatures().length > 0) continue;
    if (checker.isArrayLikeType(valueType) || isBuiltIn(program, valueType)) continue;
    const hasAsyncMethod = listMethods(checker, valueType).some((method) =>
      method.signatures.some((signature) => checker.getPropertyOfType(signature.getReturnType(), 'then') !== undefined),
    );
    // A resource may only group others (`openai.chat` holds `completions`).
    if (hasAsyncMethod || (depth > 0 && valueType !== type && listResourceProperties(checker, program, valueType, depth - 1).length > 0)) {
      resources.push({ name, type: valueType });
    }
  }
  return resources;
}

/** Declared by the standard library or by Node's own types. */
function isBuiltIn(program: ts.Program, type: ts.Type): boolean {
  if (type.isUnionOrIntersection()) return type.types.some((member) => isBuiltIn(program, member));
  const declarations = type.getSymbol()?.declarations ?? [];
  return declarations.some((declaration) => {
    const file = declaration.getSourceFile();
    return program.isSourceFileDefaultLibrary(file) || /[\\/]node_modules[\\/]@types[\\/]node[\\/]/.test(file.fileName);
  });
}

function isPublic(symbol: ts.Symbol): boolean {
  return (symbol.declarations ?? []).every((declaration) => {
    const name = ts.getNameOfDeclaration(declaration);
    if (name !== undefined && ts.isPrivateIdentifier(name)) return false;
    return (ts.getCombinedModifierFlags(declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0;
  });
}

function declaredTypeParameters(checker: ts.TypeChecker, symbol: ts.Symbol, type: ts.Type): ts.TypeParameter[] {
  if (isInterfaceType(type)) return [...(type.typeParameters ?? [])];
  // A type alias keeps its parameters on the declaration, not on the type.
  const declaration = symbol.declarations?.find(ts.isTypeAliasDeclaration);
  return (declaration?.typeParameters ?? []).map((parameter) => checker.getTypeAtLocation(parameter));
}

function isObjectLike(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.every(isObjectLike);
  return (type.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection)) !== 0;
}

function isInterfaceType(type: ts.Type): type is ts.InterfaceType {
  return (type.flags & ts.TypeFlags.Object) !== 0 && ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.ClassOrInterface) !== 0;
}

function skipAlias(checker: ts.TypeChecker, symbol: ts.Symbol): ts.Symbol {
  return (symbol.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(symbol) : symbol;
}

function listSome(names: readonly string[]): string {
  const max = 20;
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')}, … (${names.length - max} more)`;
}
