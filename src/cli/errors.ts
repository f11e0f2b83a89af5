/** Errors a user can act on, with stable codes (`VIGIL_<AREA>_<WHAT>`). */
export class VigilError extends Error {
  constructor(readonly code: string, message: string, readonly exitCode = 2) {
    super(message);
  }
}

/** Prints an error the way every command does and sets the exit code. */
export function reportError(err: unknown): void {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  if (typeof code === 'string' && code.startsWith('VIGIL_')) {
    const e = err as Error & { code: string; exitCode?: number };
    process.stderr.write(`vigil: ${e.code}: ${e.message}\n`);
    process.exitCode = e.exitCode ?? 2;
    return;
  }
  throw err;
}
