import * as ts from 'typescript';
import { methodLabel, type LabelStyle } from '../label.js';
import { inferredSkipReason, keptParameterCount } from './classify.js';
import { listMethods, listResourceProperties } from './read-type.js';
import type { ClientMethod } from './read-type.js';
import type { KeptSignature } from './render-method.js';
import { selectMethod, selectResource, type Selection, type SkipReason } from './select.js';
import { findSignalParameter, type SignalParameter } from './signal-parameter.js';
import type { TypePrinter } from './type-printer.js';

/**
 * Members every generated class has, so a client member of the same name is left out; and `then`,
 * which would make the wrapper a thenable that `await wrapper` never gets past.
 */
export const WRAPPER_MEMBERS: readonly string[] = ['pool', 'with', 'then'];

/** Nested resources deeper than this are not followed (`a.b.c.d.method` is the deepest). */
const MAX_DEPTH = 4;

/** A method the wrapper will have. */
export interface PlannedMethod {
  readonly method: ClientMethod;
  readonly path: readonly string[];
  readonly label: string;
  readonly signatures: readonly KeptSignature[];
  /** How many of the method's signatures lost a trailing callback or were dropped for one. */
  readonly callbackSignatures: number;
  readonly signal: SignalParameter | undefined;
  readonly commandPrefix: string | undefined;
}

/** One generated class: the client itself (empty path) or a nested resource such as `chat.completions`. */
export interface PlannedResource {
  readonly path: readonly string[];
  readonly methods: readonly PlannedMethod[];
  readonly children: readonly PlannedResource[];
}

/** A method or resource left out, and why. */
export interface SkippedMember {
  readonly path: string;
  readonly reason: SkipReason;
}

/** What the planner needs besides the type. */
export interface PlanContext {
  readonly checker: ts.TypeChecker;
  readonly program: ts.Program;
  readonly printer: TypePrinter;
  readonly selection: Selection;
  readonly label: LabelStyle;
  readonly commandMethods: ReadonlySet<string>;
  /** The global `AbortSignal` type, when the program has one. */
  readonly abortSignal: ts.Type | undefined;
}

/**
 * Decide what the wrapper of `type` contains: its methods (minus the default exclusions, the user's
 * `--exclude`, and callback-only methods) and, for each property holding an API resource, a nested
 * wrapper planned the same way. Every member left out is added to `skipped`.
 */
export function planResource(type: ts.Type, path: readonly string[], context: PlanContext, skipped: SkippedMember[], ancestors: readonly ts.Type[] = []): PlannedResource {
  const { checker } = context;
  const methods: PlannedMethod[] = [];
  for (const method of listMethods(checker, type)) {
    const methodPath = [...path, method.name];
    const skip = (reason: SkipReason): void => {
      skipped.push({ path: methodPath.join('.'), reason });
    };
    if (WRAPPER_MEMBERS.includes(method.name)) {
      skip('name taken by the wrapper');
      continue;
    }
    const reason = selectMethod(methodPath, context.selection, inferredSkipReason(checker, method));
    if (reason !== undefined) {
      skip(reason);
      continue;
    }
    const signatures: KeptSignature[] = [];
    for (const signature of method.signatures) {
      const parameterCount = keptParameterCount(checker, signature);
      if (parameterCount === undefined) continue;
      const dropsCallback = parameterCount < signature.getParameters().length;
      signatures.push({ signature, declaration: context.printer.signature(signature), dropsCallback });
    }
    if (signatures.length === 0) {
      skip('callback style');
      continue;
    }
    methods.push({
      method,
      path: methodPath,
      label: labelOf(methodPath, context.label),
      signatures,
      callbackSignatures: method.signatures.length - signatures.filter((kept) => !kept.dropsCallback).length,
      signal: commonSignal(signatures, context),
      commandPrefix: isCommandMethod(method, signatures, context) ? prefixOf(path, context.label) : undefined,
    });
  }

  const children: PlannedResource[] = [];
  if (path.length < MAX_DEPTH) {
    for (const property of listResourceProperties(checker, context.program, type)) {
      const childPath = [...path, property.name];
      // A resource that links back to an enclosing one (`client.parent.client`) would never end.
      if (ancestors.includes(property.type) || property.type === type) continue;
      if (WRAPPER_MEMBERS.includes(property.name)) {
        skipped.push({ path: childPath.join('.'), reason: 'name taken by the wrapper' });
        continue;
      }
      const reason = selectResource(childPath, context.selection);
      if (reason !== undefined) {
        skipped.push({ path: childPath.join('.'), reason });
        continue;
      }
      const childSkipped: SkippedMember[] = [];
      const child = planResource(property.type, childPath, context, childSkipped, [...ancestors, type]);
      // A resource with nothing to wrap is not a resource: its members are not worth listing either.
      if (child.methods.length > 0 || child.children.length > 0) {
        children.push(child);
        skipped.push(...childSkipped);
      } else {
        // Except what the user chose to leave out, which the header and summary must show.
        skipped.push(...childSkipped.filter((member) => member.reason === 'excluded by --exclude'));
      }
    }
  }
  return { path, methods, children };
}

/** `chat.completions.create`, each segment in the label style (`beta.chat_kit.sessions.create`). */
export function labelOf(path: readonly string[], style: LabelStyle): string {
  return path.map((segment) => methodLabel(segment, style)).join('.');
}

function prefixOf(path: readonly string[], style: LabelStyle): string {
  return path.length === 0 ? '' : `${labelOf(path, style)}.`;
}

/** The signal parameter, when every kept signature has one at the same position. */
function commonSignal(signatures: readonly KeptSignature[], context: PlanContext): SignalParameter | undefined {
  const found = signatures.map((kept) => {
    const count = kept.signature.getParameters().length - (kept.dropsCallback ? 1 : 0);
    return findSignalParameter(context.checker, kept.signature, count, context.abortSignal);
  });
  const [first] = found;
  if (first === undefined || found.some((signal) => signal?.index !== first.index)) return undefined;
  return { index: first.index, create: found.every((signal) => signal?.create === true) };
}

/** `send(command)`: named in `commandMethods`, and every signature's first parameter is an object. */
function isCommandMethod(method: ClientMethod, signatures: readonly KeptSignature[], context: PlanContext): boolean {
  if (!context.commandMethods.has(method.name)) return false;
  return signatures.every((kept) => {
    const first = kept.signature.getParameters()[0];
    if (first === undefined || (kept.dropsCallback && kept.signature.getParameters().length === 1)) return false;
    const type = context.checker.getNonNullableType(context.checker.getTypeOfSymbol(first));
    return (type.flags & (ts.TypeFlags.Object | ts.TypeFlags.NonPrimitive | ts.TypeFlags.Intersection | ts.TypeFlags.TypeParameter)) !== 0;
  });
}
