import { ClientPoolError } from '../errors.js';

/** Stable codes of {@link CodegenError}. */
export type CodegenErrorCode =
  | 'ERR_CODEGEN_SOURCE_NOT_FOUND'
  | 'ERR_CODEGEN_TYPE_NOT_FOUND'
  | 'ERR_CODEGEN_NO_METHODS'
  | 'ERR_CODEGEN_SOURCE_ERRORS'
  | 'ERR_CODEGEN_INVALID_OPTION';

/**
 * The generator could not produce a wrapper: the source or type does not exist, the source has type
 * errors, the type has no method to wrap, or an option is invalid. The CLI prints the message and
 * exits with code 2.
 */
export class CodegenError extends ClientPoolError {
  override readonly name = 'CodegenError';
  readonly code: CodegenErrorCode;
  constructor(code: CodegenErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
