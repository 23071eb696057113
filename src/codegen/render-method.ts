import * as ts from 'typescript';
import { indentJsDoc, readJsDoc } from './jsdoc.js';
import { isIdentifierName, isReservedInModules, quote } from './names.js';
import type { ClientMethod } from './read-type.js';
import type { TypePrinter } from './type-printer.js';

const INDENT = '  ';

/** What every method of one wrapper shares. */
export interface MethodContext {
  readonly checker: ts.TypeChecker;
  readonly printer: TypePrinter;
  /** The client type as written in the output (`RpcClient`, `Base<T>`), for the fallback signature. */
  readonly clientType: string;
  /** The wrapper's own type parameters, in scope in every method. */
  readonly classTypeParameters: ReadonlySet<string>;
}

/** One method plus the declarations the checker printed for its signatures (not yet rewritten). */
export interface MethodInput {
  readonly method: ClientMethod;
  readonly declarations: readonly (ts.SignatureDeclaration | undefined)[];
  readonly label: string;
}

/** A method's source, and the import locals it uses. */
export interface RenderedMethod {
  readonly text: string;
  readonly imports: ReadonlySet<string>;
}

interface Parameter {
  readonly name: string;
  readonly text: string;
  readonly rest: boolean;
}

interface Signature {
  readonly doc: string | undefined;
  readonly typeParameters: string;
  readonly typeArguments: string;
  readonly parameters: readonly Parameter[];
  readonly returnType: string;
}

/**
 * The wrapper method for one client method, indented for a class body: each call goes through
 * `this.pool.run` with the method's label. Overloads keep one signature each plus an implementation
 * that forwards its arguments; a signature that names a type the output cannot import falls back to
 * `Parameters<Client['m']>` when there is one signature, and the method is skipped (with a comment
 * saying why) when there are several.
 */
export function renderMethod(input: MethodInput, context: MethodContext): RenderedMethod {
  const { method, label } = input;
  context.printer.takeUsed();
  const done = (lines: readonly string[]): RenderedMethod => ({ text: lines.join('\n'), imports: context.printer.takeUsed() });
  const signatures: Signature[] = [];
  const missing = new Set<string>();
  method.signatures.forEach((signature, index) => {
    const raw = input.declarations[index];
    const rendered = raw && renderSignature(raw, signature, context);
    if (rendered === undefined) missing.add(`signature ${index + 1}`);
    else if (rendered.missing.length > 0) for (const name of rendered.missing) missing.add(name);
    else signatures.push(rendered.signature);
  });

  const key = propertyKey(method.name);
  const callee = (client: string): string => `${client}${accessor(method.name)}`;
  const runOptions = `{ method: ${quote(label)} }`;
  const lines: string[] = [];

  if (missing.size > 0) {
    // Neither the fallback nor the skip comment uses the types the signatures named.
    context.printer.takeUsed();
    const names = [...missing].join(', ');
    if (method.signatures.length > 1) {
      return { text: `${INDENT}// Skipped ${key}(): its signatures use types the output cannot import (${names}).`, imports: new Set() };
    }
    const doc = readJsDoc(method.signatures[0]?.getDeclaration()) ?? readJsDoc(method.symbol.valueDeclaration);
    if (doc !== undefined) lines.push(indentJsDoc(doc, INDENT));
    const member = `${context.clientType}[${quote(method.name)}]`;
    lines.push(
      `${INDENT}${key}(...args: Parameters<${member}>): Promise<Awaited<ReturnType<${member}>>> {`,
      `${INDENT}${INDENT}return this.pool.run((client) => ${callee('client')}(...args), ${runOptions});`,
      `${INDENT}}`,
    );
    return { text: lines.join('\n'), imports: new Set() };
  }

  if (signatures.length === 1) {
    const [only] = signatures as [Signature];
    // A property holding a function has its JSDoc on the property, not on the function type.
    const doc = only.doc ?? readJsDoc(method.symbol.valueDeclaration);
    if (doc !== undefined) lines.push(indentJsDoc(doc, INDENT));
    const client = freeName('client', only.parameters);
    const args = only.parameters.map((parameter) => (parameter.rest ? `...${parameter.name}` : parameter.name));
    lines.push(
      `${INDENT}${key}${only.typeParameters}(${parameterList(only)}): ${only.returnType} {`,
      `${INDENT}${INDENT}return this.pool.run((${client}) => ${callee(client)}${only.typeArguments}(${args.join(', ')}), ${runOptions});`,
      `${INDENT}}`,
    );
    return done(lines);
  }

  for (const signature of signatures) {
    if (signature.doc !== undefined) lines.push(indentJsDoc(signature.doc, INDENT));
    lines.push(`${INDENT}${key}${signature.typeParameters}(${parameterList(signature)}): ${signature.returnType};`);
  }
  // Overloads cannot be resolved from a union of argument lists, hence the one cast: the
  // overload signatures above are what callers see and are checked against.
  lines.push(
    `${INDENT}${key}(...args: unknown[]): Promise<unknown> {`,
    `${INDENT}${INDENT}return this.pool.run((client) => (${callee('client')} as (...args: unknown[]) => unknown)(...args), ${runOptions});`,
    `${INDENT}}`,
  );
  return done(lines);
}

function parameterList(signature: Signature): string {
  return signature.parameters.map((parameter) => parameter.text).join(', ');
}

function renderSignature(
  raw: ts.SignatureDeclaration,
  signature: ts.Signature,
  context: MethodContext,
): { signature: Signature; missing: string[] } | undefined {
  const { printer } = context;
  const declaration = printer.rewrite(raw);
  if (declaration.type === undefined) return undefined;
  const scope = new Set([...context.classTypeParameters, ...typeParameterNames(declaration)]);
  const missing = printer.unnameable(declaration, scope);

  // Destructured parameters get a plain name so the whole argument can be forwarded, and names
  // that a declaration file may use but a strict-mode module may not (`function`) get a suffix.
  const taken = new Set(declaration.parameters.flatMap((p) => (ts.isIdentifier(p.name) ? [p.name.text] : [])));
  const parameters = declaration.parameters.map((parameter, index): Parameter => {
    let name = ts.isIdentifier(parameter.name) ? parameter.name.text : `arg${index}`;
    if (!ts.isIdentifier(parameter.name) || isReservedInModules(name)) {
      while (taken.has(name) || isReservedInModules(name)) name = `${name}_`;
      taken.add(name);
    }
    const optional = parameter.questionToken !== undefined;
    const rest = parameter.dotDotDotToken !== undefined;
    const type = parameter.type && (optional ? withoutUndefined(parameter.type) : parameter.type);
    const text = `${rest ? '...' : ''}${name}${optional ? '?' : ''}: ${type ? printer.print(type) : 'unknown'}`;
    return { name, text, rest };
  });

  const returnType = wrapReturnType(declaration.type, signature, scope, context);
  missing.push(...returnType.missing);
  const typeParameters = declaration.typeParameters ?? [];
  return {
    signature: {
      doc: readJsDoc(signature.getDeclaration()),
      typeParameters: typeParameters.length > 0 ? `<${typeParameters.map((p) => printer.print(p)).join(', ')}>` : '',
      typeArguments: typeParameters.length > 0 ? `<${typeParameters.map((p) => p.name.text).join(', ')}>` : '',
      parameters,
      returnType: returnType.text,
    },
    missing: [...new Set(missing)],
  };
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
): { text: string; missing: string[] } {
  const { printer, checker } = context;
  if (!mentions(node, scope)) {
    const awaited = checker.getAwaitedType(signature.getReturnType());
    const awaitedNode = awaited && printer.typeNode(awaited);
    if (awaitedNode !== undefined && !mentions(awaitedNode, scope)) {
      return { text: `Promise<${printer.print(awaitedNode)}>`, missing: printer.unnameable(awaitedNode, scope) };
    }
  }
  return { text: `Promise<Awaited<${printer.print(isPromiseOf(node) ?? node)}>>`, missing: [] };
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
function freeName(base: string, parameters: readonly Parameter[]): string {
  const taken = new Set(parameters.map((parameter) => parameter.name));
  let name = base;
  while (taken.has(name)) name = `_${name}`;
  return name;
}

function propertyKey(name: string): string {
  return isIdentifierName(name) ? name : quote(name);
}

function accessor(name: string): string {
  return isIdentifierName(name) ? `.${name}` : `[${quote(name)}]`;
}
