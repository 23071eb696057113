/**
 * A stand-in client for the micro benchmarks: a call costs next to nothing (one resolved promise), so the
 * numbers show the wrapper's overhead. `bench/generated/multi-echo-client.ts` is generated from this type.
 */
export class EchoClient {
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }

  /** Resolves with `value + id`, so a result tells which client answered. */
  async get(value: number): Promise<number> {
    return value + this.id;
  }
}
