import * as ts from 'typescript';
import { LABEL_STYLES, type LabelStyle } from '../label.js';
import { importableSpecifiers } from './dependencies.js';
import { CodegenError } from './errors.js';
import { ImportSet } from './imports.js';
import { loadSource, type LoadedSource } from './load-source.js';
import { isIdentifierName, isReservedInModules } from './names.js';
import { planResource, type PlannedResource, type SkippedMember } from './plan.js';
import { findClientType, type ClientType } from './read-type.js';
import { overloadsTypeSource, renderMethod, type MethodContext } from './render-method.js';
import { RUNTIME_HELPERS, runtimeHelperSource, type RuntimeHelper } from './runtime-helpers.js';
import { compilePatterns, matches, type SkipReason } from './select.js';
import { TypePrinter } from './type-printer.js';

/** Options of {@link generateWrapper}; the CLI flags map one to one. */
export interface GenerateOptions {
  /**
   * Where the client type is declared: a `.ts`/`.d.ts` path (`src/rpc.ts`, relative to `cwd`) or a
   * module specifier resolved from `cwd` like Node would (`ioredis`, `undici`).
   */
  readonly source: string;
  /** The exported class, interface or type alias to wrap (`RpcClient`, `Redis`). */
  readonly type: string;
  /** Name of the generated class (`MultiRpcClient`). */
  readonly wrapper: string;
  /** Path the output will be written to (relative to `cwd`); the imports are relative to it. */
  readonly out: string;
  /**
   * Method labels: `snake` (`getSlot` → `get_slot`, as the Go generator) or `as-is`.
   * @default 'snake'
   */
  readonly label?: LabelStyle;
  /**
   * Module the output imports `ClientPool` from.
   * @default 'clientpool'
   */
  readonly importFrom?: string;
  /**
   * Directory that `source` and `out` are relative to and packages are resolved from.
   * @default process.cwd()
   */
  readonly cwd?: string;
  /**
   * Wrap only the methods matching one of these names or globs (`get*`, `chat.**`); empty: all. A
   * pattern without wildcards also brings back a method the default lists leave out (`quit`).
   * @default []
   */
  readonly include?: readonly string[];
  /**
   * Leave out the methods and nested resources matching one of these names or globs; wins over `include`.
   * @default []
   */
  readonly exclude?: readonly string[];
  /**
   * Methods that carry many operations as a command object (`client.send(new GetObjectCommand(…))`):
   * each call is labelled with the command's class name (`get_object_command`) instead of the method's.
   * Applies when the first parameter is an object.
   * @default ['send']
   */
  readonly commandMethods?: readonly string[];
  /**
   * The project's tsconfig.json (relative to `cwd`), whose compiler options (paths, baseUrl,
   * experimentalDecorators, types, lib…) the source is read with.
   * @default the nearest tsconfig.json above the source (above `cwd` for a package); fixed options without one
   */
  readonly tsconfig?: string;
}

/** The generated source and what went into it. */
export interface GeneratedWrapper {
  readonly code: string;
  /** Dotted paths of the wrapped methods (`get`, `chat.completions.create`). */
  readonly wrapped: readonly string[];
  /** Methods and resources left out, in the order the header lists them. */
  readonly skipped: readonly SkippedMember[];
  /** Things the user may want to know, one line each (`--exclude gett matched nothing`); the CLI prints them on stderr. */
  readonly warnings: readonly string[];
}


/** The program name written in the header. */
export const GENERATOR_NAME = 'clientpool-codegen';

/** The order the header lists reasons in. */
const REASONS: readonly SkipReason[] = [
  'lifecycle',
  'event emitter',
  'stream or connection state',
  'returns a stream or event source',
  'callback style',
  'excluded by --exclude',
  'not in --include',
  'name taken by the wrapper',
  'types the output cannot import',
];

/**
 * Generate the source of a wrapper class whose methods mirror the client type's public methods and
 * run each call through a `ClientPool`, labelled with the method name:
 *
 * ```ts
 * getSlot(...args: [commitment?: Commitment]): Promise<number> {
 *   return this.#run((client) => client.getSlot(...args), 'get_slot');
 * }
 * ```
 *
 * Deterministic (same input, same bytes) and free of side effects apart from reading sources.
 * @throws {CodegenError} when the source or type cannot be found, the source has type errors, the
 * type has no methods, or an option is invalid.
 * @example
 * const code = generateWrapper({ source: 'src/rpc.ts', type: 'RpcClient', wrapper: 'MultiRpcClient', out: 'src/generated/multi-rpc.ts' });
 */
export function generateWrapper(options: GenerateOptions): string {
  return generate(options).code;
}

/**
 * {@link generateWrapper}, with the lists of what was wrapped and what was left out (the CLI prints
 * their sizes).
 * @throws {CodegenError} as {@link generateWrapper}.
 */
export function generate(options: GenerateOptions): GeneratedWrapper {
  const label = options.label ?? 'snake';
  const importFrom = options.importFrom ?? 'clientpool';
  const cwd = options.cwd ?? process.cwd();
  validate(options, label, importFrom);
  const selection = { include: compilePatterns('--include', options.include ?? []), exclude: compilePatterns('--exclude', options.exclude ?? []) };

  const source = loadSource(options.source, options.out, cwd, options.tsconfig);
  const { checker, program } = source;
  const client = findClientType(checker, source.moduleSymbol, options.type, source.label);

  // Imported names must not shadow globals the output uses (Promise, Awaited, Buffer, …).
  const imports = new ImportSet((name) => checker.resolveName(name, source.outputFile, ts.SymbolFlags.All, false) === undefined);
  for (const helper of RUNTIME_HELPERS) imports.reserve(helper);
  // A class named `Promise` would shadow the global every signature of the output uses.
  if (!imports.isFree(options.wrapper)) {
    const what = RUNTIME_HELPERS.includes(options.wrapper) ? 'a function of the generated file' : 'a global type or value';
    throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `--wrapper ${options.wrapper}: the name is taken by ${what} that the output may use; choose another name`);
  }
  imports.reserve(options.wrapper);
  const clientPool = imports.add(importFrom, 'ClientPool');
  const runOptions = imports.add(importFrom, 'RunOptions');
  const callFunction = imports.add(importFrom, 'CallFunction');
  const printer = new TypePrinter(source, imports, importableSpecifiers(cwd));

  const abortSignalSymbol = checker.resolveName('AbortSignal', source.outputFile, ts.SymbolFlags.Type, false);
  const skipped: SkippedMember[] = [];
  const root = planResource(client.type, [], {
    checker,
    program,
    printer,
    selection,
    label,
    commandMethods: new Set(options.commandMethods ?? ['send']),
    abortSignal: abortSignalSymbol && checker.getDeclaredTypeOfSymbol(abortSignalSymbol),
  }, skipped);
  const resources = flatten(root);
  const methodCount = resources.reduce((sum, resource) => sum + resource.methods.length, 0);
  if (methodCount === 0) {
    const why = skipped.length === 0 ? 'has no public methods to wrap' : `has no method left to wrap (${summarize(skipped)})`;
    throw new CodegenError('ERR_CODEGEN_NO_METHODS', `--type ${options.type}: '${options.type}' in ${source.label} ${why}`);
  }

  // Type parameter names must be reserved before any import is named, or `import("m").T` could
  // become a `T` that a method's own `<T>` shadows.
  for (const parameter of client.typeParameters) imports.reserve(parameter.symbol.name);
  for (const resource of resources) {
    for (const method of resource.methods) {
      for (const kept of method.signatures) if (kept.declaration) reserveTypeParameters(kept.declaration, imports);
      if (method.method.signatures.length > 1) imports.reserve(`Overloads${method.method.signatures.length}`);
    }
  }
  const classNames = new Map<PlannedResource, string>();
  for (const resource of resources) {
    let name = options.wrapper + resource.path.map(pascalCase).join('');
    for (let n = 2; resource.path.length > 0 && !imports.isFree(name); n++) name = `${options.wrapper}${resource.path.map(pascalCase).join('')}${n}`;
    imports.reserve(name);
    classNames.set(resource, name);
  }

  const classTypeParameters = keptTypeParameters(client, printer, options.type);
  const keptClient: ClientType = { ...client, typeParameters: client.typeParameters.slice(0, classTypeParameters.length) };
  const clientTypeNode = clientTypeReference(keptClient, source, imports, printer, keptClient.typeParameters.length === client.typeParameters.length);
  printer.thisType = clientTypeNode;
  const used = new Set([clientPool, runOptions, callFunction, ...printer.localsIn(clientTypeNode)]);
  for (const declaration of classTypeParameters) for (const local of printer.localsIn(declaration)) used.add(local);
  const clientType = printer.print(clientTypeNode);
  // The local name, which differs from --type when an alias was needed (`Worker as Worker2`).
  const clientName = ts.isTypeReferenceNode(clientTypeNode) ? printer.print(clientTypeNode.typeName) : client.name;
  const context: MethodContext = {
    checker,
    printer,
    clientType,
    classTypeParameters: new Set(classTypeParameters.map((declaration) => declaration.name.text)),
    promiseSymbols: new Set(
      ['Promise', 'PromiseLike'].flatMap((name) => checker.resolveName(name, source.outputFile, ts.SymbolFlags.Type, false) ?? []),
    ),
  };
  const typeParameters = classTypeParameters.length > 0 ? `<${classTypeParameters.map((declaration) => printer.print(declaration)).join(', ')}>` : '';
  const typeArguments = classTypeParameters.length > 0 ? `<${classTypeParameters.map((declaration) => declaration.name.text).join(', ')}>` : '';

  const helpers = new Set<RuntimeHelper>(['combineSignals']);
  const overloadArities = new Set<number>();
  const wrapped: string[] = [];
  let callbackMethods = 0;
  let droppedOverloads = 0;
  const fallbacks: string[] = [];
  const declared: string[] = [];
  const classes = resources.map((resource) => {
    const members: string[] = [];
    const declarations: string[] = [];
    const implementations: string[] = [];
    for (const method of resource.methods) {
      const rendered = renderMethod(method, context);
      if ('skipped' in rendered) {
        skipped.push({ path: method.path.join('.'), reason: rendered.skipped });
        continue;
      }
      wrapped.push(method.path.join('.'));
      if (method.callbackSignatures > 0) callbackMethods++;
      droppedOverloads += rendered.droppedOverloads;
      if (rendered.fallback) fallbacks.push(method.path.join('.'));
      for (const local of rendered.imports) used.add(local);
      for (const helper of rendered.helpers) helpers.add(helper);
      for (const arity of rendered.overloadArities) overloadArities.add(arity);
      if (rendered.implementation === undefined) {
        members.push(rendered.text);
      } else {
        declared.push(method.path.join('.'));
        declarations.push(rendered.text);
        implementations.push(rendered.implementation);
      }
    }
    const names = { pool: clientPool, runOptions, callFunction, clientType, typeParameters, typeArguments };
    return renderClass(resource, { members, declarations, implementations }, classNames, names, clientName, oneLine(source.headerLabel));
  });
  if (wrapped.length === 0) {
    throw new CodegenError('ERR_CODEGEN_NO_METHODS', `--type ${options.type}: '${options.type}' in ${source.label} has no method left to wrap (${summarize(skipped)})`);
  }
  skipped.sort((a, b) => REASONS.indexOf(a.reason) - REASONS.indexOf(b.reason));

  const code = [
    `// Generated by ${GENERATOR_NAME} from ${oneLine(source.headerLabel)}#${options.type}. Do not edit.`,
    ...headerNotes(wrapped, resources.length - 1, skipped, callbackMethods, droppedOverloads, declared, fallbacks),
    imports.render(used),
    '',
    classes.join('\n\n'),
    ...[...helpers].sort().map((helper) => `\n${runtimeHelperSource(helper, label)}`),
    ...[...overloadArities].sort((a, b) => a - b).map((arity) => `\n${overloadsTypeSource(arity)}`),
    '',
  ].join('\n');
  // A typo in --exclude would otherwise leave the method wrapped without a word.
  const warnings = selection.exclude
    .filter((pattern) => !skipped.some((member) => member.reason === 'excluded by --exclude' && matches(pattern, member.path.split('.'))))
    .map((pattern) => `--exclude ${pattern.source} matched nothing`);
  return { code, wrapped, skipped, warnings };
}

/**
 * The declarations of the client type's parameters that the wrapper class repeats. From the first one
 * whose constraint or default names a type the output cannot import (ioredis 6's `ReplyMapping extends
 * ReplyMappingMode`), they are left out and the client type takes their defaults (`Redis`).
 * @throws {CodegenError} when such a parameter has no default.
 */
function keptTypeParameters(client: ClientType, printer: TypePrinter, type: string): ts.TypeParameterDeclaration[] {
  const scope = new Set(client.typeParameters.map((parameter) => parameter.symbol.name));
  const kept: ts.TypeParameterDeclaration[] = [];
  for (const [index, parameter] of client.typeParameters.entries()) {
    const declaration = printer.typeParameter(parameter);
    if (declaration !== undefined && printer.unnameable(declaration, scope).length === 0) {
      kept.push(declaration);
      continue;
    }
    const withoutDefault = client.typeParameters.slice(index).find((rest) => rest.getDefault() === undefined);
    if (withoutDefault !== undefined) {
      throw new CodegenError('ERR_CODEGEN_TYPE_NOT_FOUND', `--type ${type}: the type parameter ${withoutDefault.symbol.name} has no default, and the constraint or default of ${parameter.symbol.name} uses types the output cannot import`);
    }
    break;
  }
  return kept;
}

/** The client type as a reference to its import: `Redis`, `Store<V>`, `PublicClient<transport, chain, …>`. */
function clientTypeReference(client: ClientType, source: LoadedSource, imports: ImportSet, printer: TypePrinter, allParameters: boolean): ts.TypeNode {
  const printed = allParameters ? printer.typeNode(client.type) : undefined;
  if (printed !== undefined && ts.isTypeReferenceNode(printed) && printer.unnameable(printed, new Set(client.typeParameters.map((parameter) => parameter.symbol.name))).length === 0) return printed;
  // A type alias (`type PublicClient = Prettify<Client<…>>`) is printed expanded: name it instead.
  const typeArguments = client.typeParameters.map((parameter) => ts.factory.createTypeReferenceNode(parameter.symbol.name));
  // An ES module importing a CommonJS module's `default` gets `module.exports`, whose `.default` is the class.
  if (client.exportName === 'default' && source.outputFile.impliedNodeFormat === ts.ModuleKind.ESNext && declaredInCommonJs(client.symbol)) {
    const local = imports.add(source.specifier, 'default', undefined, `${client.name}Module`);
    return ts.factory.createTypeReferenceNode(ts.factory.createQualifiedName(ts.factory.createIdentifier(local), 'default'), typeArguments.length > 0 ? typeArguments : undefined);
  }
  const local = imports.add(source.specifier, client.exportName, client.symbol, client.name);
  return ts.factory.createTypeReferenceNode(local, typeArguments.length > 0 ? typeArguments : undefined);
}

function declaredInCommonJs(symbol: ts.Symbol): boolean {
  return symbol.declarations?.some((declaration) => declaration.getSourceFile().impliedNodeFormat === ts.ModuleKind.CommonJS) ?? false;
}

function flatten(resource: PlannedResource): PlannedResource[] {
  return [resource, ...resource.children.flatMap(flatten)];
}

interface ClassNames {
  readonly pool: string;
  readonly runOptions: string;
  readonly callFunction: string;
  readonly clientType: string;
  readonly typeParameters: string;
  readonly typeArguments: string;
}

/**
 * The members of one generated class: its methods; and the methods typed as the client's own, as
 * members of the interface merged with the class (`declarations`) and methods of the object literal
 * its static block puts on the prototype (`implementations`), in the same order.
 */
interface ClassMembers {
  readonly members: readonly string[];
  readonly declarations: readonly string[];
  readonly implementations: readonly string[];
}

function renderClass(
  resource: PlannedResource,
  { members, declarations, implementations }: ClassMembers,
  classNames: ReadonlyMap<PlannedResource, string>,
  names: ClassNames,
  clientName: string,
  sourceLabel: string,
): string {
  const className = classNames.get(resource) ?? '';
  const where = resource.path.length === 0 ? `{@link ${clientName}}` : `\`${clientName.toLowerCase()}.${resource.path.join('.')}\``;
  const options = `Omit<${names.runOptions}<${names.clientType}>, 'method'>`;
  const children = resource.children.map((child) => ({ name: child.path.at(-1) ?? '', className: classNames.get(child) ?? '' }));
  // Merged with the class: a class member cannot be typed as another type's method (`Client['get']`).
  const merged =
    declarations.length === 0
      ? []
      : [
          `/**`,
          ` * The methods of {@link ${className}} typed as the client's own (every overload and type parameter kept),`,
          ` * as the output cannot import some of their types; the class's static block defines them.`,
          ` */`,
          `export interface ${className}${names.typeParameters} {`,
          declarations.join('\n\n'),
          `}`,
          '',
        ];
  const lines = [
    ...merged,
    `/**`,
    resource.path.length === 0
      ? ` * Calls each method of ${where} on a client chosen by a {@link ${names.pool}}, labelled`
      : ` * Calls each method of ${where} (from ${sourceLabel}) on a client chosen by a {@link ${names.pool}}, labelled`,
    ` * with the method's name for metrics and traces. Synchronous methods become asynchronous.`,
    ` */`,
    `export class ${className}${names.typeParameters} {`,
    `  /** The pool every call goes through. */`,
    `  readonly pool: ${names.pool}<${names.clientType}>;`,
    `  readonly #defaults: ${options} | undefined;`,
    `  readonly #signals: readonly AbortSignal[];`,
    ...children.map((child) => `  #${child.name}: ${child.className}${names.typeArguments} | undefined;`),
    '',
    `  /**`,
    `   * @param pool The pool every call goes through.`,
    `   * @param options Run options for every call (\`timeout\`, \`signal\`, \`strategy\`, \`retry\`, …); each method sets its own \`method\` label.`,
    `   * @param signals More signals that cancel every call, besides \`options.signal\` (what \`with({ signal })\` adds to).`,
    `   */`,
    `  constructor(pool: ${names.pool}<${names.clientType}>, options?: ${options}, signals: readonly AbortSignal[] = []) {`,
    `    this.pool = pool;`,
    `    this.#defaults = options;`,
    `    this.#signals = signals;`,
    `  }`,
    '',
    `  /**`,
    `   * The same wrapper with \`options\` added to every call's run options: \`wrapper.with({ timeout: 500 }).m()\`.`,
    `   * A \`signal\` adds to the one already set: either cancels the call.`,
    `   */`,
    `  with(options: ${options}): ${className}${names.typeArguments} {`,
    `    const previous = this.#defaults?.signal;`,
    `    const signals = options.signal === undefined || previous === undefined ? this.#signals : [...this.#signals, previous];`,
    `    return new ${className}${names.typeArguments}(this.pool, { ...this.#defaults, ...options }, signals);`,
    `  }`,
    ...children.flatMap((child) => [
      '',
      `  /** \`${[...resource.path, child.name].join('.')}\` of the client, through the pool. */`,
      `  get ${child.name}(): ${child.className}${names.typeArguments} {`,
      `    return (this.#${child.name} ??= new ${child.className}${names.typeArguments}(this.pool, this.#defaults, this.#signals));`,
      `  }`,
    ]),
    ...members.flatMap((member) => ['', member]),
    ...(members.length === 0 && implementations.length === 0
      ? []
      : [
          '',
          `  /** \`pool.run(fn)\` labelled \`method\`, cancelled by each of the wrapper's signals and by the caller's own \`signal\`. */`,
          `  #run<R>(fn: ${names.callFunction}<${names.clientType}, R>, method: string, signal?: AbortSignal): Promise<Awaited<R>> {`,
          `    const options: ${names.runOptions}<${names.clientType}> = this.#defaults === undefined ? { method } : { ...this.#defaults, method };`,
          `    const combined = signal === undefined && this.#signals.length === 0 ? undefined : combineSignals([options.signal, ...this.#signals, signal]);`,
          `    if (combined === undefined) return this.pool.run(fn, options);`,
          `    return this.pool.run(fn, { ...options, signal: combined.signal }).finally(combined.release);`,
          `  }`,
        ]),
    ...(implementations.length === 0
      ? []
      : [
          '',
          `  static {`,
          `    // The methods of the interface above: each forwards its arguments as given.`,
          `    defineMethods(this.prototype, {`,
          ...implementations,
          `    });`,
          `  }`,
        ]),
    `}`,
  ];
  return lines.join('\n');
}

/** The header's account of what was wrapped and left out, as `//` lines of at most about 100 characters. */
function headerNotes(
  wrapped: readonly string[],
  nested: number,
  skipped: readonly SkippedMember[],
  callbackMethods: number,
  droppedOverloads: number,
  declared: readonly string[],
  fallbacks: readonly string[],
): string[] {
  const lines = [`//`, `// Wraps ${plural(wrapped.length, 'method')}${nested > 0 ? ` (${nested} nested resource${nested === 1 ? '' : 's'})` : ''}; leaves out ${skipped.length}${skipped.length > 0 ? ':' : '.'}`];
  for (const reason of REASONS) {
    const paths = skipped.filter((member) => member.reason === reason).map((member) => member.path);
    if (paths.length > 0) lines.push(...wrapList(`// - ${reason}: `, paths));
  }
  if (callbackMethods > 0) {
    lines.push(`// Callback parameters and callback-only overloads are dropped from ${plural(callbackMethods, 'method')}: the promise carries`, `// the result, so the pool sees failures.`);
  }
  if (declared.length > 0) {
    lines.push("// Typed as the client's own methods (every overload and type parameter kept), as the output");
    lines.push(...wrapList('// cannot import some of their types: ', declared));
  }
  if (fallbacks.length > 0) {
    lines.push('// Typed in part through the client type (Parameters<>, ReturnType<>, OverloadsN<>), as the');
    lines.push(...wrapList('// output cannot import some of their types: ', fallbacks));
  }
  if (droppedOverloads > 0) {
    lines.push(`// ${plural(droppedOverloads, 'overload')} not returning a plain promise and using types the output cannot import ${droppedOverloads === 1 ? 'is' : 'are'} left out.`);
  }
  return lines;
}

function wrapList(prefix: string, items: readonly string[]): string[] {
  const lines: string[] = [];
  let line = prefix;
  for (const [index, item] of items.entries()) {
    const text = index === items.length - 1 ? item : `${item}, `;
    if (line.length + text.trimEnd().length > 100 && line.trim() !== prefix.trim()) {
      lines.push(line.trimEnd());
      line = '//   ';
    }
    line += text;
  }
  lines.push(line.trimEnd());
  return lines;
}

/** `lifecycle 2, event emitter 15`. */
export function summarize(skipped: readonly SkippedMember[]): string {
  return REASONS.flatMap((reason) => {
    const count = skipped.filter((member) => member.reason === reason).length;
    return count > 0 ? [`${reason} ${count}`] : [];
  }).join(', ');
}

/** `text` with line breaks and other control characters escaped, so it cannot end a `//` comment. */
function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]/gu, (character) => JSON.stringify(character).slice(1, -1));
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function pascalCase(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter((word) => word.length > 0);
  return words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('') || 'Resource';
}

function reserveTypeParameters(node: ts.Node, imports: ImportSet): void {
  if (ts.isTypeParameterDeclaration(node)) imports.reserve(node.name.text);
  ts.forEachChild(node, (child) => reserveTypeParameters(child, imports));
}

function validate(options: GenerateOptions, label: string, importFrom: string): void {
  if (!isIdentifierName(options.wrapper) || isReservedInModules(options.wrapper)) {
    throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `--wrapper must be a valid identifier, got '${options.wrapper}'`);
  }
  if (options.type.length === 0) throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', '--type must not be empty');
  if (!(LABEL_STYLES as readonly string[]).includes(label)) {
    throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `--label must be one of ${LABEL_STYLES.join(', ')}, got '${label}'`);
  }
  if (importFrom.length === 0) throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', '--import must not be empty');
  // No module specifier needs these, and a quote or a line break would end the import's string.
  if (/['"`\\\p{Cc}\u2028\u2029]/u.test(importFrom)) {
    throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `--import must be a module specifier (a package name or a path with forward slashes), got ${JSON.stringify(importFrom)}`);
  }
  if (!/\.[cm]?tsx?$/.test(options.out) || options.out.endsWith('.d.ts')) {
    throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `--out must be a .ts file, got '${options.out}'`);
  }
  for (const name of options.commandMethods ?? []) {
    if (!isIdentifierName(name)) throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `--command-methods must be method names, got '${name}'`);
  }
}
