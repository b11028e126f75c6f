import { ProvError } from '../../shared/errors.ts';

export interface InputErrorWhere {
  line?: number;
  row?: number;
  cause?: unknown;
  /** The problem without the cell values it quotes, for the logs (default: `problem` itself). */
  logProblem?: string;
}

/**
 * A file-level rejection: PROV_ERR_INPUT whose message starts with the file and ends with where.
 * `details.logSafe` is the same without cell values: what the logs show (src/shared/logger.ts).
 */
export function inputError(file: string, problem: string, where: InputErrorWhere = {}): ProvError {
  const at = [where.row === undefined ? '' : `row ${where.row}`, where.line === undefined ? '' : `line ${where.line}`]
    .filter(Boolean)
    .join(', ');
  const tail = at ? ` (${at})` : '';
  return new ProvError('PROV_ERR_INPUT', `${file}: ${problem}${tail}`, {
    cause: where.cause,
    details: {
      file,
      ...(where.line === undefined ? {} : { line: where.line }),
      ...(where.row === undefined ? {} : { row: where.row }),
      logSafe: `${file}: ${where.logProblem ?? problem}${tail}`,
    },
  });
}

/** Why a file could not be opened or read, from its errno code. */
export function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ELOOP' ? 'is a symbolic link (not followed)' : `cannot be read (${code ?? 'error'})`;
}
