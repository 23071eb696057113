import { ClientPoolError } from '../errors.js';

/** Characters of a model's name quoted in a message at most (the full name is in `clientName`). */
const MAX_NAME = 100;

function clip(name: string): string {
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name;
}

/**
 * A model's stream closed before its first content part and without a `finish` part: nothing was
 * generated and nothing said why. Raised inside the pool's call, so it counts against the model and the
 * stream is opened on another one (per the pool's retry options).
 */
export class StreamEndedEarlyError extends ClientPoolError {
  static readonly code = 'ERR_AI_STREAM_ENDED_EARLY';
  override readonly name = 'StreamEndedEarlyError';
  readonly code = StreamEndedEarlyError.code;
  /** The name in the pool of the model whose stream it was. */
  readonly clientName: string;
  constructor(clientName: string) {
    super(`the stream of model ${clip(clientName)} ended before its first content part, without a finish part`);
    this.clientName = clientName;
  }
}

/**
 * A model's stream sent an `error` part before its first content part, and its `error` is not an `Error`
 * (a provider's JSON error object, say): it is the `cause`. An `Error` in an error part is raised as it is.
 */
export class StreamErrorPartError extends ClientPoolError {
  static readonly code = 'ERR_AI_STREAM_ERROR_PART';
  override readonly name = 'StreamErrorPartError';
  readonly code = StreamErrorPartError.code;
  /** The name in the pool of the model whose stream it was. */
  readonly clientName: string;
  constructor(clientName: string, cause: unknown) {
    super(`the stream of model ${clip(clientName)} sent an error part before its first content part`, { cause });
    this.clientName = clientName;
  }
}
