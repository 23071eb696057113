import * as ts from 'typescript';
import { indentJsDoc, readJsDoc } from './jsdoc.js';
import { isIdentifierName, isReservedInModules, quote } from './names.js';
import type { ClientMethod } from './read-type.js';
import type { RuntimeHelper } from './runtime-helpers.js';
import type { SignalParameter } from './signal-parameter.js';
import type { TypePrinter } from './type-printer.js';

const INDENT = '  ';

/**
 * A printed type longer than this is named through the client type instead (`Parameters<C['m']>[0]`):
 * the checker expands some types (a conditional over a tuple of 50 RPC methods in viem) into lines of
 * 100 KB that nobody can read and that may not even check the same way.
 */
const MAX_TYPE_LENGTH = 1_000;

/** What every method of one wrapper shares. */
export interface MethodContext {
  readonly checker: ts.TypeChecker;
  readonly printer: TypePrinter;
  /** The client type as written in the output (`RpcClient`, `Base<T>`), for the fallback types. */
  readonly clientType: string;
  /** The wrapper's own type parameters, in scope in every method. */
  readonly classTypeParameters: ReadonlySet<string>;
  /** The global `Promise` and `PromiseLike`: a method returning one may keep its declared type. */
  readonly promiseSymbols: ReadonlySet<ts.Symbol>;
}

/** A signature the wrapper keeps, and whether its trailing (optional) callback parameter is dropped. */
export interface KeptSignature {
  readonly signature: ts.Signature;
  /** The checker's declaration for it, not yet rewritten (a rest tuple comes back as separate parameters). */
  readonly declaration: ts.SignatureDeclaration | undefined;
  readonly dropsCallback: boolean;
}

/** One method to render. */
export interface MethodInput {
  readonly method: ClientMethod;
  /** Property names from the client to the method (`['chat', 'completions', 'create']`). */
  readonly path: readonly string[];
  readonly signatures: readonly KeptSignature[];
  /** The `method` label of its calls. */
  readonly label: string;
  /** Where the attempt's signal goes, if the method takes one. */
  readonly signal: SignalParameter | undefined;
  /** Label each call by its first argument's class name, after this prefix (`send(command)`). */
  readonly commandPrefix: string | undefined;
}

/** A method's source, the import locals and helpers it uses, and how many overloads it left out. */
export type RenderedMethod =
  | {
      /**
       * The class's method, or for a method typed as the client's own, the member of the interface
       * merged with the class (`readonly get: Client['get'];`).
       */
      readonly text: string;
      /**
       * For a method typed as the client's own, its implementation: a method of the object literal
       * that the class's static block puts on the prototype (`get(...args) { … },`), indented for it.
       */
      readonly implementation: string | undefined;
      readonly imports: ReadonlySet<string>;
      readonly helpers: ReadonlySet<RuntimeHelper>;
      readonly droppedOverloads: number;
      /** Some type is written through the client type (`Parameters<Client['m']>[0]`) as the output cannot import it. */
      readonly fallback: boolean;
      /** The arities of the `OverloadsN` helper types its signatures use (see {@link overloadsTypeSource}). */
      readonly overloadArities: ReadonlySet<number>;
    }
  | { readonly skipped: 'types the output cannot import'; readonly detail: string };

type Rendered = Exclude<RenderedMethod, { readonly skipped: string }>;

interface Parameter {
  readonly name: string;
  /** `name?: Type`, as in a parameter list or a labelled tuple element. */
  readonly text: string;
  readonly optional: boolean;
  readonly rest: boolean;
}

interface Signature {
  readonly doc: string | undefined;
  readonly typeParameters: string;
  readonly typeArguments: string;
  readonly parameters: readonly Parameter[];
  readonly returnType: string;
  readonly nodes: readonly ts.Node[];
  /** `(...args: Parameters<Client['m']>)`: the arguments' type is generic, so no signal can be put in. */
  readonly whole: boolean;
  /** Some type is written through the client type. */
  readonly fallback: boolean;
  /** The arity of the `OverloadsN` helper type it uses, if any. */
  readonly overloads: number | undefined;
}

/**
 * The wrapper method for one client method, indented for a class body: each call goes through
 * `this.pool.run` (the class's `#run`) with the method's label, and the arguments reach the client exactly as given (a
 * method with optional parameters takes them as a labelled rest tuple, so an omitted argument is not
 * passed on as `undefined`). Overloads keep one signature each plus an implementation that forwards
 * its arguments. When a type the output cannot import is needed, a method whose every signature
 * returns a `Promise` (or `PromiseLike`) is typed as the client's own method, `readonly m: Client['m']`
 * in an interface merged with the class, all overloads and generics kept, with an implementation that
 * forwards its arguments (see {@link RenderedMethod}); in any other method that type is replaced by an
 * indexed access of the client type (`Parameters<Client['m']>[0]`, `ReturnType<Client['m']>`), and an
 * overload that cannot be written so is left out.
 */
export function renderMethod(input: MethodInput, context: MethodContext): RenderedMethod {
  const member = `${context.clientType}${input.path.map((name) => `[${quote(name)}]`).join('')}`;
  const printed = renderPrinted(input, context, member);
  const needsClientType = 'skipped' in printed || printed.fallback || printed.droppedOverloads > 0;
  if (needsClientType && keepsDeclaredType(input, context)) return renderDeclared(input, member);
  return printed;
}

/** Each kept signature printed with its own types, falling back to the client type where it must. */
function renderPrinted(input: MethodInput, context: MethodContext, member: string): RenderedMethod {
  const only = input.signatures.length === 1 ? input.signatures[0] : undefined;
  if (only !== undefined) {
    const signature = renderSignature(only, context, fallbackFor(input, only, member));
    if (signature !== undefined && !('missing' in signature)) return renderSingle(input, signature, context, member);
  }
  const signatures: Signature[] = [];
  const seen = new Set<string>();
  const missing = new Set<string>();
  let dropped = 0;
  for (const [index, kept] of input.signatures.entries()) {
    const signature = renderSignature(kept, context, fallbackFor(input, kept, member));
    if (signature === undefined || 'missing' in signature) {
      dropped++;
      for (const name of signature?.missing ?? [`signature ${index + 1}`]) missing.add(name);
      continue;
    }
    // Removing a callback can make two overloads the same.
    const key = signatureLine(input, signature);
    if (!seen.has(key)) {
      seen.add(key);
      signatures.push(signature);
    }
  }
  if (signatures.length === 0) return { skipped: 'types the output cannot import', detail: [...missing].join(', ') };
  return renderOverloads(input, signatures, context, dropped);
}

/**
 * How `kept` names what the output cannot import: `Parameters<M>` and `ReturnType<M>` describe the last
 * declared signature; any other signature of an overloaded method is picked out by position
 * (`Overloads3<M>[1]`), unless it is generic (inference would erase its type parameters); a signature
 * that loses its callback still has its other parameters at the same positions.
 */
function fallbackFor(input: MethodInput, kept: KeptSignature, member: string): Fallback {
  const { signatures } = input.method;
  const last = signatures.at(-1);
  if (kept.signature === last && !kept.dropsCallback) return { member, same: undefined, overload: undefined };
  const generic = (kept.signature.getTypeParameters()?.length ?? 0) > 0;
  const overload = signatures.length > 1 && !generic ? { arity: signatures.length, index: signatures.indexOf(kept.signature) } : undefined;
  return { member, same: last ?? kept.signature, overload };
}

function renderSingle(input: MethodInput, signature: Signature, context: MethodContext, member: string): RenderedMethod {
  const helpers = new Set<RuntimeHelper>();
  const lines: string[] = [];
  const doc = signature.doc ?? readJsDoc(input.method.symbol.valueDeclaration);
  if (doc !== undefined) lines.push(indentJsDoc(doc, INDENT));
  const asTuple = input.signal !== undefined || signature.parameters.some((parameter) => parameter.optional);
  const key = propertyKey(input.path.at(-1) ?? '');
  const taken = new Set(asTuple ? ['args'] : signature.parameters.map((parameter) => parameter.name));
  const client = freeName('client', taken);
  const call = freeName('call', taken);
  let args: string;
  let parameterList: string;
  let first: string | undefined;
  if (asTuple) {
    const [whole] = signature.parameters;
    parameterList = whole?.rest === true && whole.name === '' ? whole.text : `...args: [${signature.parameters.map((parameter) => parameter.text).join(', ')}]`;
    args = '...args';
    first = 'args[0]';
  } else {
    parameterList = signature.parameters.map((parameter) => parameter.text).join(', ');
    args = signature.parameters.map((parameter) => (parameter.rest ? `...${parameter.name}` : parameter.name)).join(', ');
    first = signature.parameters[0]?.name;
  }
  const signal = signature.whole ? undefined : input.signal;
  if (signal !== undefined) {
    helpers.add('withSignal');
    args = `...withSignal(args, ${signal.index}, ${call}.signal, ${signal.create})`;
  }
  const callerSignal = signal === undefined ? '' : `, callerSignal(args, ${signal.index})`;
  const label = labelExpression(input, first, helpers);
  const arrowParameters = signal === undefined ? client : `${client}, ${call}`;
  // The client type may be generic (viem's), and a generic `Parameters<>` cannot be spread into the
  // method itself: the cast states the same signature as a rest parameter.
  const callee = signature.whole
    ? `(${client}${accessor(input.path)} as ${context.classTypeParameters.size > 0 ? 'unknown as ' : ''}(...args: Parameters<${member}>) => ReturnType<${member}>)`
    : `${client}${accessor(input.path)}`;
  lines.push(
    `${INDENT}${key}${signature.typeParameters}(${parameterList}): ${signature.returnType} {`,
    `${INDENT}${INDENT}return this.#run${signature.whole ? `<ReturnType<${member}>>` : ''}((${arrowParameters}) => ${callee}${signature.typeArguments}(${args}), ${label}${callerSignal});`,
    `${INDENT}}`,
  );
  return { text: lines.join('\n'), implementation: undefined, imports: localsOf(signature, context), helpers, droppedOverloads: 0, fallback: signature.fallback, overloadArities: arities([signature]) };
}

function renderOverloads(input: MethodInput, signatures: readonly Signature[], context: MethodContext, dropped: number): RenderedMethod {
  const helpers = new Set<RuntimeHelper>();
  const lines: string[] = [];
  const imports = new Set<string>();
  for (const signature of signatures) {
    if (signature.doc !== undefined) lines.push(indentJsDoc(signature.doc, INDENT));
    lines.push(`${INDENT}${signatureLine(input, signature)};`);
    for (const local of localsOf(signature, context)) imports.add(local);
  }
  let args = '...args';
  if (input.signal !== undefined) {
    helpers.add('withSignal');
    args = `...withSignal(args, ${input.signal.index}, call.signal, ${input.signal.create})`;
  }
  const callerSignal = input.signal === undefined ? '' : `, callerSignal(args, ${input.signal.index})`;
  const label = labelExpression(input, 'args[0]', helpers);
  const arrowParameters = input.signal === undefined ? 'client' : 'client, call';
  // Overloads cannot be resolved from a union of argument lists, hence the one cast: the
  // overload signatures above are what callers see and are checked against.
  lines.push(
    `${INDENT}${propertyKey(input.path.at(-1) ?? '')}(...args: unknown[]): Promise<unknown> {`,
    `${INDENT}${INDENT}return this.#run((${arrowParameters}) => (client${accessor(input.path)} as (...args: unknown[]) => unknown)(${args}), ${label}${callerSignal});`,
    `${INDENT}}`,
  );
  return { text: lines.join('\n'), implementation: undefined, imports, helpers, droppedOverloads: dropped, fallback: signatures.some((signature) => signature.fallback), overloadArities: arities(signatures) };
}

/**
 * Whether the wrapper may be typed as the client's own method, `Client['m']`: every signature returns
 * a `Promise` or a `PromiseLike` (what `pool.run()` returns is one), keeps all its parameters (no
 * callback dropped) and has no `this` parameter. A promise subclass such as openai's `APIPromise` does
 * not qualify: its own methods (`withResponse()`) are not on the promise the pool returns.
 */
function keepsDeclaredType(input: MethodInput, context: MethodContext): boolean {
  const { signatures } = input.method;
  if (input.signatures.length !== signatures.length || input.signatures.some((kept) => kept.dropsCallback)) return false;
  return signatures.every((signature) => {
    const returned = signature.getReturnType().getSymbol();
    return signature.thisParameter === undefined && returned !== undefined && context.promiseSymbols.has(returned);
  });
}

/**
 * The interface member typed as the client's method (`readonly get: Client['get'];`) and its
 * implementation, which forwards the arguments as given (same count) with the method's label, the
 * wrapper's run options and, where the method takes an options object with a signal, the attempt's.
 */
function renderDeclared(input: MethodInput, member: string): Rendered {
  const helpers = new Set<RuntimeHelper>(['defineMethods']);
  const key = propertyKey(input.path.at(-1) ?? '');
  const lines: string[] = [];
  const doc = readJsDoc(input.method.symbol.declarations?.[0]);
  if (doc !== undefined) lines.push(indentJsDoc(doc, INDENT));
  lines.push(`${INDENT}readonly ${key}: ${member};`);
  let args = '...args';
  if (input.signal !== undefined) {
    helpers.add('withSignal');
    args = `...withSignal(args, ${input.signal.index}, call.signal, ${input.signal.create})`;
  }
  const callerSignal = input.signal === undefined ? '' : `, callerSignal(args, ${input.signal.index})`;
  const label = labelExpression(input, 'args[0]', helpers);
  const arrowParameters = input.signal === undefined ? 'client' : 'client, call';
  const body = INDENT.repeat(3);
  const implementation = [
    `${body}${key}(...args) {`,
    `${body}${INDENT}return this.#run((${arrowParameters}) => (client${accessor(input.path)} as (...args: unknown[]) => unknown)(${args}), ${label}${callerSignal});`,
    `${body}},`,
  ].join('\n');
  return { text: lines.join('\n'), implementation, imports: new Set(), helpers, droppedOverloads: 0, fallback: false, overloadArities: new Set() };
}

function signatureLine(input: MethodInput, signature: Signature): string {
  const parameters = signature.parameters.map((parameter) => parameter.text).join(', ');
  return `${propertyKey(input.path.at(-1) ?? '')}${signature.typeParameters}(${parameters}): ${signature.returnType}`;
}

function labelExpression(input: MethodInput, first: string | undefined, helpers: Set<RuntimeHelper>): string {
  if (input.commandPrefix === undefined || first === undefined) return quote(input.label);
  helpers.add('commandLabel');
  return `commandLabel(${first}, ${quote(input.commandPrefix)}, ${quote(input.label)})`;
}

/**
 * How a type the output cannot import is named through the client type: `member` is the method's
 * type (`Client['chat']['create']`); `same` is undefined for the signature that `Parameters<member>`
 * and `ReturnType<member>` describe (the only or last one), else that signature, whose parameter and
 * return types an earlier overload may share.
 */
interface Fallback {
  readonly member: string;
  readonly same: ts.Signature | undefined;
  /** This signature's position among the method's `arity` overloads, to name its types by (`Overloads3<M>[1]`). */
  readonly overload: { readonly arity: number; readonly index: number } | undefined;
}

/**
 * Print one kept signature. With `fallback`, a parameter or return type the output cannot import
 * becomes an indexed access of the client type where that names the same type; otherwise such a
 * signature comes back as `{ missing }`. `undefined` when the checker could not print the signature at all.
 */
function renderSignature(
  kept: KeptSignature,
  context: MethodContext,
  fallback: Fallback | undefined,
): Signature | { missing: string[] } | undefined {
  const { checker } = context;
  const member = fallback?.same === undefined ? fallback?.member : undefined;
  const overload = fallback?.overload === undefined ? undefined : `Overloads${fallback.overload.arity}<${fallback.member}>[${fallback.overload.index}]`;
  const unresolved: string[] = [];
  let usedOverload = false;
  /** `Parameters<M>[i]` for parameter `index`, when the fallback's signature has one of the same type. */
  const indexed = (index: number): string | undefined => {
    if (fallback === undefined) return undefined;
    if (fallback.same === undefined) return `Parameters<${fallback.member}>[${index}]`;
    const own = kept.signature.getParameters()[index];
    if (own === undefined) return undefined;
    const type = checker.getTypeOfSymbol(own);
    // The last signature's name for the same type reads better than the overload's position.
    const position = fallback.same.getParameters().findIndex((parameter) => checker.getTypeOfSymbol(parameter) === type);
    if (position >= 0) return `Parameters<${fallback.member}>[${position}]`;
    if (overload !== undefined) {
      usedOverload = true;
      return `${overload}[0][${index}]`;
    }
    return undefined;
  };
  const { printer } = context;
  const declaration = kept.declaration && printer.rewrite(kept.declaration);
  if (declaration?.type === undefined) {
    // The checker could not print it (ioredis 6's `zpopmax(key, callback?)`): by position, when it can be.
    return overload === undefined || fallback?.overload === undefined ? undefined : positionalSignature(kept, overload, fallback.overload.arity, checker);
  }
  const scope = new Set([...context.classTypeParameters, ...typeParameterNames(declaration)]);
  const missing: string[] = [];
  const nodes: ts.Node[] = [];

  // Destructured parameters get a plain name so the whole argument can be forwarded, and names
  // that a declaration file may use but a strict-mode module may not (`function`) get a suffix.
  const declared = kept.dropsCallback ? declaration.parameters.slice(0, -1) : declaration.parameters;
  const ownTypeParameters = new Set((declaration.typeParameters ?? []).map((parameter) => parameter.name.text));
  let tied = false;
  const taken = new Set(declared.flatMap((p) => (ts.isIdentifier(p.name) ? [p.name.text] : [])));
  const parameters: Parameter[] = declared.map((parameter, index): Parameter => {
    let name = ts.isIdentifier(parameter.name) ? parameter.name.text : `arg${index}`;
    if (!ts.isIdentifier(parameter.name) || isReservedInModules(name)) {
      while (taken.has(name) || isReservedInModules(name)) name = `${name}_`;
      taken.add(name);
    }
    const optional = parameter.questionToken !== undefined;
    const rest = parameter.dotDotDotToken !== undefined;
    const type = parameter.type && (optional ? withoutUndefined(parameter.type) : parameter.type);
    const unnameable = type === undefined ? [] : printer.unnameable(type, scope);
    const printed = type ? printer.print(type) : 'unknown';
    if (printed.length > MAX_TYPE_LENGTH) unnameable.push(`a type of ${printed.length} characters`);
    let typeText: string;
    if (unnameable.length === 0) {
      if (type !== undefined) nodes.push(type);
      typeText = printed;
    } else {
      missing.push(...unnameable);
      // `Parameters<>` would cut this parameter's tie to the method's type parameters.
      if (type !== undefined && mentions(type, ownTypeParameters)) tied = true;
      const text = indexed(index);
      if (text === undefined) unresolved.push(...unnameable);
      typeText = text ?? 'never';
    }
    return { name, text: `${rest ? '...' : ''}${name}${optional ? '?' : ''}: ${typeText}`, optional, rest };
  });
  const doc = readJsDoc(kept.signature.getDeclaration());
  // A rest element cannot be indexed out of the tuple by position: take the whole list.
  if (missing.length > 0 && (tied || parameters.some((parameter) => parameter.rest))) {
    if (member !== undefined) return wholeSignature(member, doc);
    if (overload !== undefined && !kept.dropsCallback && fallback?.overload !== undefined) return overloadSignature(overload, fallback.overload.arity, doc);
    unresolved.push(...missing);
  }

  let returnType = wrapReturnType(declaration.type, kept.signature, scope, context);
  if (returnType.text.length > MAX_TYPE_LENGTH) returnType.missing.push(`a type of ${returnType.text.length} characters`);
  if (returnType.missing.length > 0) {
    // `ReturnType<>` of a generic method is not what a call with type arguments returns.
    const generic = (declaration.typeParameters?.length ?? 0) > 0;
    if (member !== undefined && generic) return wholeSignature(member, doc);
    const shared =
      fallback !== undefined &&
      !generic &&
      (overload !== undefined || fallback.same === undefined || checker.getReturnTypeOfSignature(kept.signature) === checker.getReturnTypeOfSignature(fallback.same));
    if (!shared) unresolved.push(...returnType.missing);
    missing.push(...returnType.missing);
    const sameAsLast = fallback?.same === undefined || checker.getReturnTypeOfSignature(kept.signature) === checker.getReturnTypeOfSignature(fallback.same);
    if (overload !== undefined && !sameAsLast) usedOverload = true;
    returnType = { text: overload === undefined || sameAsLast ? `Promise<Awaited<ReturnType<${fallback?.member ?? 'never'}>>>` : `Promise<Awaited<${overload}[1]>>`, missing: [], node: undefined };
  }
  if (returnType.node !== undefined) nodes.push(returnType.node);
  if (unresolved.length > 0) return { missing: [...new Set(unresolved)] };

  const typeParameters = declaration.typeParameters ?? [];
  const typeParametersText = typeParameters.length > 0 ? `<${typeParameters.map((p) => printer.print(p)).join(', ')}>` : '';
  const typeParametersMissing = typeParameters.flatMap((parameter) => printer.unnameable(parameter, scope));
  if (typeParametersText.length > MAX_TYPE_LENGTH) typeParametersMissing.push(`type parameters of ${typeParametersText.length} characters`);
  if (typeParametersMissing.length > 0) {
    // The method's own type parameters cannot be written: the whole signature comes from the client type.
    if (member === undefined) return { missing: [...new Set([...unresolved, ...typeParametersMissing])] };
    return wholeSignature(member, doc);
  }
  nodes.push(...typeParameters);
  return {
    doc,
    typeParameters: typeParametersText,
    typeArguments: typeParameters.length > 0 ? `<${typeParameters.map((p) => p.name.text).join(', ')}>` : '',
    parameters,
    returnType: returnType.text,
    nodes,
    whole: false,
    fallback: missing.length > 0,
    overloads: usedOverload ? fallback?.overload?.arity : undefined,
  };
}

/** The whole signature through the client type, `(...args: Parameters<M>): Promise<Awaited<ReturnType<M>>>`, without generics. */
function wholeSignature(member: string, doc: string | undefined): Signature {
  return {
    doc,
    typeParameters: '',
    typeArguments: '',
    parameters: [{ name: '', text: `...args: Parameters<${member}>`, optional: true, rest: true }],
    returnType: `Promise<Awaited<ReturnType<${member}>>>`,
    nodes: [],
    whole: true,
    fallback: true,
    overloads: undefined,
  };
}

/** One overload's whole signature by position, `(...args: Overloads3<M>[1][0]): Promise<Awaited<Overloads3<M>[1][1]>>`. */
function overloadSignature(overload: string, arity: number, doc: string | undefined): Signature {
  return {
    doc,
    typeParameters: '',
    typeArguments: '',
    parameters: [{ name: '', text: `...args: ${overload}[0]`, optional: true, rest: true }],
    returnType: `Promise<Awaited<${overload}[1]>>`,
    nodes: [],
    whole: false,
    fallback: true,
    overloads: arity,
  };
}

/** `kept` with every type named by position (`Overloads2<M>[0][0][1]`), its parameter names kept. */
function positionalSignature(kept: KeptSignature, overload: string, arity: number, checker: ts.TypeChecker): Signature | undefined {
  const doc = readJsDoc(kept.signature.getDeclaration());
  const all = kept.signature.getParameters();
  const symbols = kept.dropsCallback ? all.slice(0, -1) : all;
  const declarations = symbols.map((symbol) => symbol.valueDeclaration);
  if (declarations.some((declaration) => declaration === undefined || !ts.isParameter(declaration) || declaration.dotDotDotToken !== undefined)) {
    return kept.dropsCallback ? undefined : overloadSignature(overload, arity, doc);
  }
  const parameters = symbols.map((symbol, index): Parameter => {
    const declaration = declarations[index];
    const optional = declaration !== undefined && ts.isParameter(declaration) && checker.isOptionalParameter(declaration);
    const name = isIdentifierName(symbol.name) && !isReservedInModules(symbol.name) ? symbol.name : `arg${index}`;
    return { name, text: `${name}${optional ? '?' : ''}: ${overload}[0][${index}]`, optional, rest: false };
  });
  return { doc, typeParameters: '', typeArguments: '', parameters, returnType: `Promise<Awaited<${overload}[1]>>`, nodes: [], whole: false, fallback: true, overloads: arity };
}

function arities(signatures: readonly Signature[]): Set<number> {
  return new Set(signatures.flatMap((signature) => (signature.overloads === undefined ? [] : [signature.overloads])));
}

/**
 * `OverloadsN<F>`: the `N` call signatures of an overloaded method type as `[parameters, result]` pairs in
 * declaration order. TypeScript infers from overloads pairwise when the pattern has as many signatures,
 * which `Parameters<>` (the last signature only) cannot do.
 */
export function overloadsTypeSource(arity: number): string {
  const signatures = Array.from({ length: arity }, (_, index) => `(...args: infer A${index}): infer R${index}`).join('; ');
  const pairs = Array.from({ length: arity }, (_, index) => `[A${index}, R${index}]`).join(', ');
  return [
    `/** The ${arity} call signatures of an overloaded method, as [parameters, result] pairs in declaration order. */`,
    `type Overloads${arity}<F> = F extends { ${signatures} } ? [${pairs}] : never;`,
  ].join('\n');
}

/**
 * The wrapper's return type: `Promise` of what `pool.run()` resolves to. For a concrete type that is
 * the checker's awaited type (`Promise<number>` stays `Promise<number>`, `boolean` becomes
 * `Promise<boolean>`); with type parameters it stays symbolic, `Promise<Awaited<T>>`, which is
 * also what `pool.run()` returns for it.
 */
function wrapReturnType(
  node: ts.TypeNode,
  signature: ts.Signature,
  scope: ReadonlySet<string>,
  context: MethodContext,
): { text: string; missing: string[]; node: ts.Node | undefined } {
  const { printer, checker } = context;
  if (!mentions(node, scope)) {
    const awaited = checker.getAwaitedType(signature.getReturnType());
    const awaitedNode = awaited && printer.typeNode(awaited);
    if (awaitedNode !== undefined && !mentions(awaitedNode, scope)) {
      return { text: `Promise<${printer.print(awaitedNode)}>`, missing: printer.unnameable(awaitedNode, scope), node: awaitedNode };
    }
  }
  const inner = isPromiseOf(node) ?? node;
  return { text: `Promise<Awaited<${printer.print(inner)}>>`, missing: printer.unnameable(inner, scope), node: inner };
}

/** The import locals the printed parts of `signature` refer to. */
function localsOf(signature: Signature, context: MethodContext): Set<string> {
  const locals = new Set<string>();
  for (const node of signature.nodes) for (const local of context.printer.localsIn(node)) locals.add(local);
  return locals;
}

/** Every type parameter declared anywhere in `node` (method, nested function types, `infer`). */
function typeParameterNames(node: ts.Node): string[] {
  const names: string[] = [];
  const visit = (current: ts.Node): void => {
    if (ts.isTypeParameterDeclaration(current)) names.push(current.name.text);
    ts.forEachChild(current, visit);
  };
  visit(node);
  return names;
}

/** True when `node` refers to one of `names` (type parameters) or to `this`. */
function mentions(node: ts.Node, names: ReadonlySet<string>): boolean {
  let found = false;
  const visit = (current: ts.Node): void => {
    if (found) return;
    if (current.kind === ts.SyntaxKind.ThisType) found = true;
    else if (ts.isTypeReferenceNode(current) && ts.isIdentifier(current.typeName) && names.has(current.typeName.text)) found = true;
    else ts.forEachChild(current, visit);
  };
  visit(node);
  return found;
}

/** `X` when `node` is `Promise<X>`. */
function isPromiseOf(node: ts.TypeNode): ts.TypeNode | undefined {
  if (!ts.isTypeReferenceNode(node) || !ts.isIdentifier(node.typeName) || node.typeName.text !== 'Promise') return undefined;
  return node.typeArguments?.length === 1 ? node.typeArguments[0] : undefined;
}

/** `x?: T | undefined` means `x?: T` for a parameter; drop the noise the checker adds. */
function withoutUndefined(node: ts.TypeNode): ts.TypeNode {
  if (!ts.isUnionTypeNode(node)) return node;
  const kept = node.types.filter((type) => type.kind !== ts.SyntaxKind.UndefinedKeyword);
  if (kept.length === node.types.length || kept.length === 0) return node;
  const [first] = kept;
  return kept.length === 1 && first !== undefined ? first : ts.factory.createUnionTypeNode(kept);
}

/** A name for the arrow function's parameter that shadows no method parameter. */
function freeName(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  while (taken.has(name)) name = `_${name}`;
  return name;
}

function propertyKey(name: string): string {
  return isIdentifierName(name) ? name : quote(name);
}

/** `.chat.completions.create`, with brackets for names that are not identifiers. */
function accessor(path: readonly string[]): string {
  return path.map((name) => (isIdentifierName(name) ? `.${name}` : `[${quote(name)}]`)).join('');
}
