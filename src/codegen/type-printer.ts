import * as path from 'node:path';
import * as ts from 'typescript';
import type { ImportSet } from './imports.js';
import type { LoadedSource } from './load-source.js';
import { extensionlessSubpath } from './export-subpath.js';
import { isIdentifierName } from './names.js';

/**
 * Flags for the checker's node builder: never truncate, single quotes like the rest of the output,
 * and no `this` parameters (the wrapper's `this` is not the client's).
 */
const BUILDER_FLAGS: ts.NodeBuilderFlags =
  ts.NodeBuilderFlags.NoTruncation |
  ts.NodeBuilderFlags.UseSingleQuotesForStringLiteralType |
  ts.NodeBuilderFlags.OmitThisParameter |
  // Name an alias (`GetBlockReturnType<chain>`) instead of printing what it stands for.
  ts.NodeBuilderFlags.UseAliasDefinedOutsideCurrentScope |
  // Otherwise a signature naming one type that only a path into node_modules reaches is not printed
  // at all; with it, that one type is reported by unnameable() and replaced, the rest kept.
  ts.NodeBuilderFlags.AllowNodeModulesRelativePaths;

/** For naming one symbol by the module that declares it: no alias reuse, so an import type comes back. */
const PLAIN_FLAGS: ts.NodeBuilderFlags =
  ts.NodeBuilderFlags.NoTruncation | ts.NodeBuilderFlags.UseSingleQuotesForStringLiteralType | ts.NodeBuilderFlags.AllowNodeModulesRelativePaths;

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
  readonly #isImportable: (specifier: string, declarationFile?: string) => boolean;
  #thisType: ts.TypeNode | undefined;
  #exports: ExportIndex | undefined;
  #used = new Set<string>();

  /** @param isImportable False for module specifiers the output must not import from (see `importableSpecifiers`). */
  constructor(source: LoadedSource, imports: ImportSet, isImportable: (specifier: string, declarationFile?: string) => boolean = () => true) {
    this.#source = source;
    this.#imports = imports;
    this.#isImportable = isImportable;
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
          if (ts.isTypeReferenceNode(current)) {
            const named = this.#importByExport(current);
            if (named !== undefined) return ts.visitEachChild(named, visit, context);
          }
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
      // The checker's identifiers carry the symbol they name: a bare `Response` may mean the
      // package's type while the output would see the global one (or an import of the same name).
      const meant = checkerSymbol(first);
      if (scope.has(text) || (meant === undefined && this.#imports.isLocal(text))) return;
      if (meant !== undefined && (meant.flags & ts.SymbolFlags.TypeParameter) !== 0) return;
      const visible = checker.resolveName(text, outputFile, meaning, false);
      const same = visible !== undefined && (meant === undefined || skipAlias(checker, visible) === skipAlias(checker, meant));
      if (!same) missing.push(entityText(name));
    };
    const visit = (current: ts.Node): void => {
      if (ts.isTypeReferenceNode(current)) {
        check(current.typeName, ts.isIdentifier(current.typeName) ? ts.SymbolFlags.Type : ts.SymbolFlags.Namespace);
      } else if (ts.isTypeQueryNode(current)) {
        check(current.exprName, ts.SymbolFlags.Value | ts.SymbolFlags.Namespace);
      } else if (ts.isImportTypeNode(current)) {
        const specifier = importSpecifier(current);
        if (!this.#canImport(specifier)) missing.push(`import("${specifier}")`);
      }
      ts.forEachChild(current, visit);
    };
    visit(node);
    return [...new Set(missing)];
  }

  /** The import locals that `node` (rewritten) refers to: what the output must import for it. */
  localsIn(node: ts.Node): Set<string> {
    const locals = new Set<string>();
    const visit = (current: ts.Node): void => {
      const name = ts.isTypeReferenceNode(current) ? current.typeName : ts.isTypeQueryNode(current) ? current.exprName : undefined;
      if (name !== undefined) {
        const text = leftmost(name).text;
        if (this.#imports.isLocal(text)) locals.add(text);
      }
      ts.forEachChild(current, visit);
    };
    visit(node);
    return locals;
  }

  /**
   * A reference the checker printed by a bare name the output cannot see (an alias it kept with
   * `UseAliasDefinedOutsideCurrentScope`, such as viem's `GetBlockReturnType`), rewritten to an import
   * when the source module exports that very symbol. The checker's identifiers carry their symbol.
   */
  #importByExport(node: ts.TypeReferenceNode): ts.TypeReferenceNode | undefined {
    const first = leftmost(node.typeName);
    const symbol = checkerSymbol(first);
    // Identifiers the rewrite made (import locals) carry no symbol; type parameters stay as they are.
    if (symbol === undefined || (symbol.flags & ts.SymbolFlags.TypeParameter) !== 0) return undefined;
    const { checker, outputFile } = this.#source;
    const meaning = ts.isIdentifier(node.typeName) ? ts.SymbolFlags.Type : ts.SymbolFlags.Namespace;
    const visible = checker.resolveName(first.text, outputFile, meaning, false);
    if (visible !== undefined && skipAlias(checker, visible) === skipAlias(checker, symbol)) return undefined;
    const name = this.#exportedName(symbol) ?? this.#declaringModuleName(symbol);
    if (name === undefined) return undefined;
    return ts.factory.updateTypeReferenceNode(node, replaceLeftmostWith(node.typeName, name), node.typeArguments);
  }

  /**
   * An interface, class, enum or type alias the `--source` module does not export, named through the
   * module that declares it when the output may import from there (openai's `Response`, which the
   * output must not confuse with the global `Response`, or its union `ResponseStreamEvent`): the
   * checker, asked without reusing the declaration's text, prints it as
   * `import("openai/resources/responses/responses.mjs").Response`.
   */
  #declaringModuleName(symbol: ts.Symbol): ts.EntityName | undefined {
    const { checker, outputFile } = this.#source;
    const target = skipAlias(checker, symbol);
    if ((target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class | ts.SymbolFlags.Enum | ts.SymbolFlags.TypeAlias)) === 0) return undefined;
    const node = checker.typeToTypeNode(checker.getDeclaredTypeOfSymbol(target), outputFile, PLAIN_FLAGS);
    if (node === undefined || !ts.isImportTypeNode(node) || node.qualifier === undefined) return undefined;
    // An alias of another named type (`type A = B`) prints as that type: only its own name will do.
    if (rightmost(node.qualifier).text !== target.name) return undefined;
    const specifier = importSpecifier(node);
    if (!this.#canImport(specifier)) return undefined;
    return replaceLeftmost(node.qualifier, this.#localName(specifier, leftmost(node.qualifier).text));
  }

  /**
   * `symbol` as an entity name importable from the `--source` module: its own export (`Redis`), or a
   * member of an exported namespace (`OpenAI.RequestOptions`, an alias of the same type), importing
   * the first name. `undefined` when the module does not export it.
   */
  #exportedName(symbol: ts.Symbol): ts.EntityName | undefined {
    const { checker } = this.#source;
    const target = skipAlias(checker, symbol);
    const index = this.#exportIndex();
    let path = index.bySymbol.get(target);
    if (path === undefined && (target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Class)) !== 0) {
      const declared = checker.getDeclaredTypeOfSymbol(target);
      if ((declared.flags & ts.TypeFlags.Object) !== 0) path = index.byType.get(declared);
    }
    if (path === undefined) return undefined;
    const [head, ...rest] = path;
    const local = this.#imports.add(this.#source.specifier, head ?? '', index.heads.get(head ?? ''));
    let name: ts.EntityName = ts.factory.createIdentifier(local);
    for (const part of rest) name = ts.factory.createQualifiedName(name, part);
    return name;
  }

  /** What the `--source` module exports, one namespace level deep, by symbol and by declared type. */
  #exportIndex(): ExportIndex {
    if (this.#exports === undefined) {
      const { checker, moduleSymbol } = this.#source;
      const index: ExportIndex = { bySymbol: new Map(), byType: new Map(), heads: new Map() };
      const add = (symbol: ts.Symbol, path: readonly string[]): void => {
        if (!index.bySymbol.has(symbol)) index.bySymbol.set(symbol, path);
        if ((symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Class)) === 0) return;
        const declared = checker.getDeclaredTypeOfSymbol(symbol);
        // Only object types: many aliases may stand for `string`, and they are not interchangeable names.
        if ((declared.flags & ts.TypeFlags.Object) !== 0 && !index.byType.has(declared)) index.byType.set(declared, path);
      };
      const exports = checker.getExportsOfModule(moduleSymbol).filter((exported) => exported.name !== 'default');
      for (const exported of exports) {
        const target = skipAlias(checker, exported);
        index.heads.set(exported.name, target);
        add(target, [exported.name]);
      }
      for (const exported of exports) {
        const target = skipAlias(checker, exported);
        if ((target.flags & ts.SymbolFlags.Namespace) === 0) continue;
        for (const member of checker.getExportsOfModule(target)) add(skipAlias(checker, member), [exported.name, member.name]);
      }
      this.#exports = index;
    }
    return this.#exports;
  }

  #importType(node: ts.ImportTypeNode): ts.TypeNode {
    const specifier = importSpecifier(node);
    if (!this.#canImport(specifier)) {
      // A module inside a package (`openai/internal/…`) may still export a type the package's entry
      // re-exports under a namespace; otherwise left as is for unnameable() to report.
      const exported = node.qualifier === undefined ? undefined : this.#module(specifier)?.exports?.get(leftmost(node.qualifier).escapedText);
      const name = exported === undefined ? undefined : this.#exportedName(exported);
      if (name === undefined || node.qualifier === undefined) return node;
      const entity = replaceLeftmostWith(node.qualifier, name);
      return node.isTypeOf ? ts.factory.createTypeQueryNode(entity, node.typeArguments) : ts.factory.createTypeReferenceNode(entity, node.typeArguments);
    }
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
  #localName(resolved: string, exportName: string): string {
    const { checker } = this.#source;
    const moduleSymbol = this.#module(resolved);
    const specifier = extensionlessSubpath(resolved, moduleSymbol?.declarations?.[0]?.getSourceFile().fileName);
    const exports = moduleSymbol === undefined ? [] : checker.getExportsOfModule(moduleSymbol);
    const exported = exports.find((symbol) => symbol.name === exportName);
    const target = exported && skipAlias(checker, exported);
    if (exportName !== 'default' || target === undefined) return this.#imports.add(specifier, exportName, target);
    // Prefer `import type { Redis }` over `import type { default as Redis }` when both exist.
    const named = exports.find((symbol) => symbol.name !== 'default' && skipAlias(checker, symbol) === target);
    if (named !== undefined) return this.#imports.add(specifier, named.name, target);
    const preferred = target.name !== 'default' && isIdentifierName(target.name)
      ? target.name
      : pascalCase(path.basename(resolved).replace(/\.[^.]*$/, ''));
    return this.#imports.add(specifier, 'default', target, preferred);
  }

  /** Allowed (a dependency of the project, see `importableSpecifiers`) and resolvable from the output file. */
  #canImport(specifier: string): boolean {
    const moduleSymbol = this.#module(specifier);
    const declarationFile = moduleSymbol?.declarations?.[0]?.getSourceFile().fileName;
    return this.#isImportable(specifier, declarationFile) && (moduleSymbol !== undefined || !specifier.startsWith('.'));
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

/** The symbol the checker attached to an identifier it printed; `undefined` for identifiers made here. */
function checkerSymbol(identifier: ts.Identifier): ts.Symbol | undefined {
  return (identifier as unknown as { readonly symbol?: ts.Symbol }).symbol;
}

function rightmost(name: ts.EntityName): ts.Identifier {
  return ts.isIdentifier(name) ? name : name.right;
}

function leftmost(name: ts.EntityName): ts.Identifier {
  return ts.isIdentifier(name) ? name : leftmost(name.left);
}

/** `name` with its first identifier replaced by the entity `head` (`A.B` with `N.M` for `A` gives `N.M.B`). */
function replaceLeftmostWith(name: ts.EntityName, head: ts.EntityName): ts.EntityName {
  if (ts.isIdentifier(name)) return head;
  return ts.factory.createQualifiedName(replaceLeftmostWith(name.left, head), name.right.text);
}

/** The `--source` module's exports by symbol and by declared type, as entity paths; `heads` maps a top-level export name to its symbol. */
interface ExportIndex {
  readonly bySymbol: Map<ts.Symbol, readonly string[]>;
  readonly byType: Map<ts.Type, readonly string[]>;
  readonly heads: Map<string, ts.Symbol>;
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
