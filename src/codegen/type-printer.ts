import * as path from 'node:path';
import * as ts from 'typescript';
import type { ImportSet } from './imports.js';
import type { LoadedSource } from './load-source.js';
import { isIdentifierName } from './names.js';

/**
 * Flags for the checker's node builder: never truncate, single quotes like the rest of the output,
 * and no `this` parameters (the wrapper's `this` is not the client's).
 */
const BUILDER_FLAGS: ts.NodeBuilderFlags =
  ts.NodeBuilderFlags.NoTruncation |
  ts.NodeBuilderFlags.UseSingleQuotesForStringLiteralType |
  ts.NodeBuilderFlags.OmitThisParameter;

/**
 * Turns checker types into printed TypeScript that compiles inside the output file. The checker
 * prints types as seen from the (empty) output file, so anything declared elsewhere comes back as
 * `import("specifier").Name`; {@link TypePrinter.rewrite} replaces those with imported names.
 */
export class TypePrinter {
  readonly #source: LoadedSource;
  readonly #imports: ImportSet;
  readonly #printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed, removeComments: true });
  readonly #modules = new Map<string, ts.Symbol | undefined>();
  #thisType: ts.TypeNode | undefined;
  #used = new Set<string>();

  constructor(source: LoadedSource, imports: ImportSet) {
    this.#source = source;
    this.#imports = imports;
  }

  /** What a leftover `this` type stands for: the client type, since calls go to a client. */
  set thisType(node: ts.TypeNode) {
    this.#thisType = node;
  }

  /**
   * The import locals that rewritten nodes used since the last call. A method that ends up skipped
   * discards its set, so its types are not imported for nothing.
   */
  takeUsed(): Set<string> {
    const used = this.#used;
    this.#used = new Set();
    return used;
  }

  /** The signature as a method declaration, before {@link TypePrinter.rewrite}. */
  signature(signature: ts.Signature): ts.SignatureDeclaration | undefined {
    return this.#source.checker.signatureToSignatureDeclaration(
      signature,
      ts.SyntaxKind.MethodDeclaration,
      this.#source.outputFile,
      BUILDER_FLAGS,
    );
  }

  /** `type` as a node, rewritten. */
  typeNode(type: ts.Type): ts.TypeNode | undefined {
    const node = this.#source.checker.typeToTypeNode(type, this.#source.outputFile, BUILDER_FLAGS);
    return node && this.rewrite(node);
  }

  /** `parameter` as a declaration (`T extends X = Y`), rewritten. */
  typeParameter(parameter: ts.TypeParameter): ts.TypeParameterDeclaration | undefined {
    const node = this.#source.checker.typeParameterToDeclaration(parameter, this.#source.outputFile, BUILDER_FLAGS);
    return node && this.rewrite(node);
  }

  /**
   * Replace `import("m").A.B<X>` with `A.B<X>` (importing `A` from `m`), leftover `this` with the
   * client type, and keep object types on one line so indentation stays the generator's own.
   */
  rewrite<T extends ts.Node>(node: T): T {
    const result = ts.transform(node, [
      (context) => (root) => {
        const visit = (current: ts.Node): ts.Node => {
          if (ts.isImportTypeNode(current)) return this.#importType(ts.visitEachChild(current, visit, context));
          if (current.kind === ts.SyntaxKind.ThisType && this.#thisType !== undefined) return this.#thisType;
          const visited = ts.visitEachChild(current, visit, context);
          if (ts.isTypeLiteralNode(visited) || ts.isMappedTypeNode(visited)) ts.setEmitFlags(visited, ts.EmitFlags.SingleLine);
          return visited;
        };
        return ts.visitNode(root, visit) as typeof root;
      },
    ]);
    const [transformed] = result.transformed;
    result.dispose();
    if (transformed === undefined) throw new Error('TypeScript transform returned no node');
    return transformed;
  }

  /** Print a node on one line (object types included, see {@link TypePrinter.rewrite}). */
  print(node: ts.Node): string {
    return this.#printer.printNode(ts.EmitHint.Unspecified, node, this.#source.outputFile);
  }

  /**
   * Names in `node` that the output file cannot see: types the source declares without exporting
   * (the checker prints their bare name), or modules only reachable by a path into node_modules.
   * @param scope Type parameter names in scope, which are fine.
   */
  unnameable(node: ts.Node, scope: ReadonlySet<string>): string[] {
    const { checker, outputFile } = this.#source;
    const missing: string[] = [];
    const check = (name: ts.EntityName, meaning: ts.SymbolFlags): void => {
      const first = leftmost(name);
      const text = first.text;
      if (scope.has(text) || this.#imports.isLocal(text)) return;
      if (checker.resolveName(text, outputFile, meaning, false) === undefined) missing.push(entityText(name));
    };
    const visit = (current: ts.Node): void => {
      if (ts.isTypeReferenceNode(current)) {
        check(current.typeName, ts.isIdentifier(current.typeName) ? ts.SymbolFlags.Type : ts.SymbolFlags.Namespace);
      } else if (ts.isTypeQueryNode(current)) {
        check(current.exprName, ts.SymbolFlags.Value | ts.SymbolFlags.Namespace);
      } else if (ts.isImportTypeNode(current)) {
        const specifier = importSpecifier(current);
        if (path.isAbsolute(specifier) || specifier.includes('node_modules/')) missing.push(`import("${specifier}")`);
      }
      ts.forEachChild(current, visit);
    };
    visit(node);
    return [...new Set(missing)];
  }

  #importType(node: ts.ImportTypeNode): ts.TypeNode {
    const specifier = importSpecifier(node);
    // `import('events')` names the module's `export =` entity; valid as is, quoted like the rest.
    if (node.qualifier === undefined) {
      const argument = ts.factory.createLiteralTypeNode(ts.factory.createStringLiteral(specifier, true));
      return ts.factory.updateImportTypeNode(node, argument, node.attributes, undefined, node.typeArguments, node.isTypeOf);
    }
    const first = leftmost(node.qualifier);
    const local = this.#localName(specifier, first.text);
    this.#used.add(local);
    const name = replaceLeftmost(node.qualifier, local);
    return node.isTypeOf
      ? ts.factory.createTypeQueryNode(name, node.typeArguments)
      : ts.factory.createTypeReferenceNode(name, node.typeArguments);
  }

  /** Local name of export `exportName` of `specifier`; `default` exports get a real name. */
  #localName(specifier: string, exportName: string): string {
    const { checker } = this.#source;
    const moduleSymbol = this.#module(specifier);
    const exports = moduleSymbol === undefined ? [] : checker.getExportsOfModule(moduleSymbol);
    const exported = exports.find((symbol) => symbol.name === exportName);
    const target = exported && skipAlias(checker, exported);
    if (exportName !== 'default' || target === undefined) return this.#imports.add(specifier, exportName, target);
    // Prefer `import type { Redis }` over `import type { default as Redis }` when both exist.
    const named = exports.find((symbol) => symbol.name !== 'default' && skipAlias(checker, symbol) === target);
    if (named !== undefined) return this.#imports.add(specifier, named.name, target);
    const preferred = target.name !== 'default' && isIdentifierName(target.name)
      ? target.name
      : pascalCase(path.basename(specifier).replace(/\.[^.]*$/, ''));
    return this.#imports.add(specifier, 'default', target, preferred);
  }

  #module(specifier: string): ts.Symbol | undefined {
    if (!this.#modules.has(specifier)) this.#modules.set(specifier, this.#source.resolveModule(specifier));
    return this.#modules.get(specifier);
  }
}

function importSpecifier(node: ts.ImportTypeNode): string {
  const { argument } = node;
  return ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal) ? argument.literal.text : '';
}

function leftmost(name: ts.EntityName): ts.Identifier {
  return ts.isIdentifier(name) ? name : leftmost(name.left);
}

function replaceLeftmost(name: ts.EntityName, local: string): ts.EntityName {
  if (ts.isIdentifier(name)) return ts.factory.createIdentifier(local);
  return ts.factory.createQualifiedName(replaceLeftmost(name.left, local), name.right.text);
}

function entityText(name: ts.EntityName): string {
  return ts.isIdentifier(name) ? name.text : `${entityText(name.left)}.${name.right.text}`;
}

function skipAlias(checker: ts.TypeChecker, symbol: ts.Symbol): ts.Symbol {
  return (symbol.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(symbol) : symbol;
}

function pascalCase(text: string): string {
  const words = text.split(/[^A-Za-z0-9]+/).filter((word) => word.length > 0);
  const name = words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
  return /^[A-Za-z]/.test(name) ? name : `Default${name}`;
}
