import { ClientPoolError } from '../errors.js';

/** Characters of a client name quoted in the message at most (the full name is in `clientName`). */
const MAX_NAME = 100;

/**
 * A proxy call picked a client that has no such method (`proxy.chat.completions.create` on a client
 * without `chat`): a pool of clients of different kinds, or a name that got past the types through a
 * cast. The call never reached the client. `method` is the proxy path (`proxy.get`), `clientName` the
 * client picked.
 */
export class MissingMethodError extends ClientPoolError {
  static readonly code = 'ERR_MISSING_METHOD';
  override readonly name = 'MissingMethodError';
  readonly code = MissingMethodError.code;
  /** The method as reached through the proxy: `proxy.get`, `proxy.chat.completions.create`. */
  readonly method: string;
  /** The name of the client picked for the call, which lacks the method. */
  readonly clientName: string;
  constructor(method: string, clientName: string) {
    super(`${method} is not a method of client ${JSON.stringify(clientName.length > MAX_NAME ? `${clientName.slice(0, MAX_NAME)}…` : clientName)}: the call did not reach it (a pool of clients of different kinds, or a name that got past the types through a cast?)`);
    this.method = method;
    this.clientName = clientName;
  }
}
