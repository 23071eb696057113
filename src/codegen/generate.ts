import * as ts from 'typescript';
import { CodegenError } from './errors.js';
import { ImportSet } from './imports.js';
import { LABEL_STYLES, methodLabel, type LabelStyle } from '../label.js';
import { loadSource } from './load-source.js';
import { isIdentifierName, isReservedInModules } from './names.js';
import { findClientType, listMethods } from './read-type.js';
import { renderMethod, type MethodInput } from './render-method.js';
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
}

/** The program name written in the header. */
export const GENERATOR_NAME = 'clientpool-codegen';

/**
 * Generate the source of a wrapper class whose methods mirror the client type's public methods and
 * run each call through a `ClientPool`, labelled with the method name:
 *
 * ```ts
 * getSlot(commitment?: Commitment): Promise<number> {
 *   return this.pool.run((client) => client.getSlot(commitment), { method: 'get_slot' });
 * }
 * ```
 *
 * Deterministic (same input, same bytes) and free of side effects apart from reading sources.
 * @throws {CodegenError} when the source or type cannot be found, the type has no methods, or an
 * option is invalid.
 * @example
 * const code = generateWrapper({ source: 'src/rpc.ts', type: 'RpcClient', wrapper: 'MultiRpcClient', out: 'src/generated/multi-rpc.ts' });
 */
export function generateWrapper(options: GenerateOptions): string {
  const label = options.label ?? 'snake';
  const importFrom = options.importFrom ?? 'clientpool';
  const cwd = options.cwd ?? process.cwd();
  validate(options, label, importFrom);

  const source = loadSource(options.source, options.out, cwd);
  const { checker } = source;
  const client = findClientType(checker, source.moduleSymbol, options.type, source.label);
  const methods = listMethods(checker, client.type);
  if (methods.length === 0) {
    throw new CodegenError(
      'ERR_CODEGEN_NO_METHODS',
      `--type ${options.type}: '${options.type}' in ${source.label} has no public methods to wrap`,
    );
  }

  // Imported names must not shadow globals the output uses (Promise, Awaited, Buffer, …).
  const imports = new ImportSet((name) => checker.resolveName(name, source.outputFile, ts.SymbolFlags.All, false) === undefined);
  imports.reserve(options.wrapper);
  const clientPool = imports.add(importFrom, 'ClientPool');
  const printer = new TypePrinter(source, imports);

  // Print every signature first: type parameter names must be reserved before any import is
  // named, or `import("m").T` could become a `T` that a method's own `<T>` shadows.
  const inputs: MethodInput[] = methods.map((method) => ({
    method,
    declarations: method.signatures.map((signature) => printer.signature(signature)),
    label: methodLabel(method.name, label),
  }));
  for (const parameter of client.typeParameters) imports.reserve(parameter.symbol.name);
  for (const input of inputs) {
    for (const declaration of input.declarations) if (declaration) reserveTypeParameters(declaration, imports);
  }
  const classTypeParameters = client.typeParameters.flatMap((parameter) => {
    const declaration = printer.typeParameter(parameter);
    return declaration === undefined ? [] : [declaration];
  });

  const clientTypeNode = printer.typeNode(client.type);
  if (clientTypeNode === undefined) {
    throw new CodegenError(
      'ERR_CODEGEN_SOURCE_NOT_FOUND',
      `--out ${options.out}: '${options.type}' cannot be imported there; is ${source.label} resolvable from that directory?`,
    );
  }
  printer.thisType = clientTypeNode;
  const used = new Set([clientPool, ...printer.takeUsed()]);
  const clientType = printer.print(clientTypeNode);
  // The local name, which differs from --type when an alias was needed (`Worker as Worker2`).
  const clientName = ts.isTypeReferenceNode(clientTypeNode) ? printer.print(clientTypeNode.typeName) : client.name;
  const context = {
    checker,
    printer,
    clientType,
    classTypeParameters: new Set(classTypeParameters.map((declaration) => declaration.name.text)),
  };

  const members = inputs.map((input) => {
    if (input.method.name === 'pool') return "  // Skipped pool(): the name is taken by the wrapper's `pool` property.";
    const rendered = renderMethod(input, context);
    for (const local of rendered.imports) used.add(local);
    return rendered.text;
  });
  const typeParameters =
    classTypeParameters.length > 0 ? `<${classTypeParameters.map((declaration) => printer.print(declaration)).join(', ')}>` : '';

  return [
    `// Generated by ${GENERATOR_NAME} from ${source.label}#${options.type}. Do not edit.`,
    imports.render(used),
    '',
    `/**`,
    ` * Calls each method of {@link ${clientName}} on a client chosen by a {@link ${clientPool}}, labelled`,
    ` * with the method's name for metrics and traces. Synchronous methods become asynchronous.`,
    ` */`,
    `export class ${options.wrapper}${typeParameters} {`,
    `  /** The pool every call goes through. */`,
    `  readonly pool: ${clientPool}<${clientType}>;`,
    '',
    `  constructor(pool: ${clientPool}<${clientType}>) {`,
    `    this.pool = pool;`,
    `  }`,
    '',
    members.join('\n\n'),
    `}`,
    '',
  ].join('\n');
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
  if (!/\.[cm]?tsx?$/.test(options.out) || options.out.endsWith('.d.ts')) {
    throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `--out must be a .ts file, got '${options.out}'`);
  }
}
