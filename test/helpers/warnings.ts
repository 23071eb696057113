import { vi } from 'vitest';

/**
 * Process warnings emitted from now on (`process.emitWarning` spied on, and silenced): their text and
 * code. Undo with `vi.restoreAllMocks()`.
 */
export function recordWarnings(): { text: string; code: string | undefined }[] {
  const warnings: { text: string; code: string | undefined }[] = [];
  vi.spyOn(process, 'emitWarning').mockImplementation(((warning: string | Error, options?: { code?: string }) => {
    warnings.push({ text: String(warning), code: options?.code });
  }) as typeof process.emitWarning);
  return warnings;
}
