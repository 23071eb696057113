import type { DefaultExcludedMethod } from './default-exclusions.js';

/**
 * The types behind `pool.proxy()`. The rule that keeps overloads and generics: a method whose declared
 * type already returns a promise is kept as declared, as a whole. Overloads and generic signatures cannot
 * be mapped one by one (inferring from an overloaded type sees only its last signature, and inference
 * drops type parameters), so only synchronous methods, and those returning a promise subclass or another
 * thenable, are re-typed, to return a plain promise.
 */

/** Any function, whatever its parameters. */
type AnyFunction = (...args: never[]) => unknown;

type IsAny<V> = 0 extends 1 & V ? true : false;

/** Objects that are values rather than resources of a client: their methods belong to the value. */
type Opaque =
  | readonly unknown[]
  | PromiseLike<unknown>
  | ReadonlyMap<unknown, unknown>
  | ReadonlySet<unknown>
  | Date
  | RegExp
  | AbortSignal
  | ArrayBuffer
  | ArrayBufferView;

/** `Prev[D]` is `D - 1`: the depth budget of the recursive types below. */
type Prev = [never, 0, 1, 2, 3, 4];

/** How deep nested resources are looked for (`client.a.b.c.method` is depth 3). */
type MaxDepth = 4;

/**
 * Whether `V` is a nested resource: an object, never null or undefined, holding a method or a resource
 * of its own (openai's `chat`, which holds `completions`, which holds `create`).
 */
type IsResource<V, D extends number = MaxDepth> =
  IsAny<V> extends true
    ? false
    : [V] extends [AnyFunction]
      ? false
      : undefined extends V
        ? false
        : null extends V
          ? false
          : [V] extends [object]
            ? [V] extends [Opaque]
              ? false
              : [DataKey<V>] extends [never]
                ? [HasMember<V, D>] extends [never]
                  ? false
                  : true
                : false
            : false;

/**
 * The keys of `V` holding data (a string, number, boolean...): an object with one is a value, such as
 * ioredis's `options` (`port`, and a `retryStrategy` function), as at run time for a plain object.
 */
type DataKey<V> = { [K in keyof V]-?: IsAny<V[K]> extends true ? never : [NonNullable<V[K]>] extends [never] ? never : [NonNullable<V[K]>] extends [string | number | boolean | bigint | symbol] ? K : never }[keyof V];

type HasMember<V, D extends number> = {
  [K in keyof V]-?: IsAny<V[K]> extends true
    ? never
    : [NonNullable<V[K]>] extends [never]
      ? never
      : [NonNullable<V[K]>] extends [AnyFunction]
        ? K
        : D extends 0
          ? never
          : IsResource<V[K], Prev[D]> extends true
            ? K
            : never;
}[keyof V];

/**
 * Members that are never proxied unless `include` names them without a wildcard: `toJSON` and the members
 * of `Object.prototype` (string conversion, `constructor`...). `then` is never proxied: a proxy is not a promise.
 */
type BuiltInName = 'toJSON' | 'toString' | 'toLocaleString' | 'valueOf' | 'constructor' | 'hasOwnProperty' | 'isPrototypeOf' | 'propertyIsEnumerable';

/**
 * An `include`/`exclude` entry as a type that its names and paths extend: each `*`, `**` or `?` becomes
 * `${string}`. Looser than at run time (where `*` stays within a segment and `?` is one character), so the
 * type may leave out a method a glob does not reach at run time, never the reverse.
 */
type GlobType<P extends string> = P extends `${infer Head}*${infer Tail}`
  ? `${GlobHead<Head>}${string}${GlobType<Tail extends `*${infer After}` ? After : Tail>}`
  : GlobHead<P>;

type GlobHead<P extends string> = P extends `${infer Head}?${infer Tail}` ? `${Head}${string}${GlobHead<Tail>}` : P;

/**
 * The key under which member `Name` (at dotted `Path`) of a client appears in its proxy, or `never`:
 * `exclude` wins, then `include`, then the default exclusions (lifecycle, event and stream methods).
 */
type KeptKey<V, Name extends string, Path extends string, Include extends string, Exclude extends string> = [Name | Path] extends [never]
  ? never
  : Name extends 'then'
    ? never
    : Name extends GlobType<Exclude>
      ? never
      : Path extends GlobType<Exclude>
        ? never
        : IsAny<V> extends true
          ? never
          : Name extends BuiltInName
            ? Name extends Include
              ? [NonNullable<V>] extends [AnyFunction]
                ? Name
                : never
              : Path extends Include
                ? [NonNullable<V>] extends [AnyFunction]
                  ? Name
                  : never
                : never
            : [NonNullable<V>] extends [never]
              ? never
              : [NonNullable<V>] extends [AnyFunction]
                ? Name extends GlobType<Include>
                  ? Name
                  : Path extends GlobType<Include>
                    ? Name
                    : Name extends DefaultExcludedMethod
                      ? never
                      : Name
                : IsResource<V> extends true
                  ? Name
                  : never;

/**
 * A method seen through the pool. One whose declared type returns a promise (every overload of ioredis
 * `set`, viem's generic `readContract`, undici's `request<TOpaque>`) keeps that type exactly; a
 * synchronous one returns a promise of its result (for an overloaded synchronous method, of its last
 * overload, and without its type parameters). A method returning a promise subclass or another thenable
 * (openai's `APIPromise`, with `withResponse()`) is re-typed overload by overload (its last 6, without
 * type parameters) to return a plain promise, as the pool does: the subclass's own methods are not there
 * at run time.
 */
export type ProxiedMethod<F> = [ReturnsPromise<F>] extends [true]
  ? false extends ArePlainPromises<Overloads<F>>
    ? Reoverload<Overloads<F>>
    : F
  : F extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;

/**
 * Whether some overload of `F` returns a promise. Read from each overload's result: a plain
 * `F extends (...args: never[]) => PromiseLike<unknown>` would pass `echo<V>(value: V): V`, by inferring
 * `V` from the promise it is matched against.
 */
type ReturnsPromise<F> = true extends SomePromise<Overloads<F>> ? true : false;

type SomePromise<S extends readonly Signature[]> = { [I in keyof S]: IsPromise<S[I][1]> }[number];

type IsPromise<R> = [R] extends [never] ? false : [R] extends [PromiseLike<unknown>] ? true : false;

/** One call signature, as its parameters and result. */
type Signature = readonly [args: readonly unknown[], result: unknown];

/**
 * The signatures of an overloaded function type, first to last, at most 6 (the last 6). Inference against
 * a pattern of N signatures fills the slots before a shorter list with copies of its first signature,
 * which overload resolution never reaches twice, so they do no harm.
 */
type Overloads<F> = F extends {
  (...args: infer A1): infer R1;
  (...args: infer A2): infer R2;
  (...args: infer A3): infer R3;
  (...args: infer A4): infer R4;
  (...args: infer A5): infer R5;
  (...args: infer A6): infer R6;
}
  ? [[A1, R1], [A2, R2], [A3, R3], [A4, R4], [A5, R5], [A6, R6]]
  : never;

/** Whether `R` is a plain promise (or not a promise at all, like a callback overload's `void`). */
type IsPlainPromise<R> = [R] extends [never] ? true : [R] extends [PromiseLike<unknown>] ? ([Promise<Awaited<R>>] extends [R] ? true : false) : true;

type ArePlainPromises<S extends readonly Signature[]> = { [I in keyof S]: IsPlainPromise<S[I][1]> }[number];

/** The overloads again, each returning a plain promise of its awaited result; their order is kept. */
type Reoverload<S extends readonly Signature[]> = S extends readonly [readonly [infer A extends readonly unknown[], infer R], ...infer Rest extends readonly Signature[]]
  ? ((...args: A) => Promise<Awaited<R>>) & Reoverload<Rest>
  : unknown;

/** One level of a proxy: its methods and its nested resources, keyed by name. */
type ProxiedObject<T, Include extends string, Exclude extends string, Prefix extends string> = {
  readonly [K in keyof T as K extends string ? KeptKey<T[K], K, `${Prefix}${K}`, Include, Exclude> : never]-?: [NonNullable<T[K]>] extends [AnyFunction]
    ? ProxiedMethod<NonNullable<T[K]>>
    : ProxiedObject<T[K], Include, Exclude, `${Prefix}${K & string}.`>;
};

/**
 * `T` seen through the pool (the type of `pool.proxy()`): its methods, each running through the pool,
 * and its nested resources (`proxy.chat.completions.create`) as nested proxies. Other properties are
 * left out, and so are the default exclusions unless named in `Include`, and the names or dotted paths
 * in `Exclude`. A widened `string` list counts as none.
 */
export type Proxied<T, Include extends string = never, Exclude extends string = never> = ProxiedObject<T, Literal<Include>, Literal<Exclude>, ''>;

/**
 * `P` when its names are known to the compiler, else `never`: a list typed `string[]` (read from a
 * config) cannot be read by the type, so it neither leaves methods out of the type (`exclude`) nor
 * brings default exclusions into it (`include`); the run time still applies it.
 */
type Literal<P extends string> = string extends P ? never : P;

/** The dotted paths of the methods of a proxy type `P` (`getSlot`, `chat.completions.create`). */
export type ProxiedPaths<P, Prefix extends string = '', D extends number = MaxDepth> = {
  [K in keyof P & string]: P[K] extends AnyFunction ? `${Prefix}${K}` : D extends 0 ? never : ProxiedPaths<P[K], `${Prefix}${K}.`, Prev[D]>;
}[keyof P & string];

/** The method of proxy type `P` at dotted `Path`. */
export type ProxiedMethodAt<P, Path extends string> = Path extends `${infer Head}.${infer Rest}`
  ? Head extends keyof P
    ? ProxiedMethodAt<P[Head], Rest>
    : never
  : Path extends keyof P
    ? P[Path]
    : never;

/**
 * Whether `V` is an options object declaring `signal?: AbortSignal`: not `any`, and not a record whose
 * index signature merely admits a `signal` key (a Redis hash's fields).
 */
type AcceptsSignal<V> = [NonNullable<V>] extends [never]
  ? false
  : IsAny<V> extends true
    ? false
    : string extends keyof NonNullable<V>
      ? 'signal' extends DeclaredKeys<NonNullable<V>>
        ? AcceptsSignalField<V>
        : false
      : AcceptsSignalField<V>;

/** The keys `V` declares by name, without its index signatures. */
type DeclaredKeys<V> = keyof { [K in keyof V as string extends K ? never : number extends K ? never : K]: V[K] };

type AcceptsSignalField<V> = [NonNullable<V>] extends [object]
    ? 'signal' extends keyof NonNullable<V>
      ? AbortSignal extends NonNullable<V>['signal' & keyof NonNullable<V>]
        ? true
        : false
      : false
    : false;

/**
 * The indexes of `F`'s parameters that are options objects taking `signal?: AbortSignal` (undici's
 * `request(options)`: 0; openai's `create(body, options?)`: 1), in any of its overloads (its last 6):
 * openai's `files.list(query, options?)` also has `list(options?)`, so both 0 and 1 are allowed.
 */
export type SignalParameter<F> = { [I in keyof Overloads<F>]: Overloads<F>[I] extends readonly [infer A, unknown] ? SignalIndexes<A> : never }[number];

type SignalIndexes<A> = A extends readonly unknown[] ? { [I in keyof A]-?: I extends `${infer N extends number}` ? (AcceptsSignal<A[I]> extends true ? N : never) : never }[number] : never;
