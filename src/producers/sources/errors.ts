import { ProvError } from '../../shared/errors.ts';

export interface InputErrorWhere {
  line?: number;
  row?: number;
  cause?: unknown;
}

/** A file-level rejection: PROV_ERR_INPUT whose message starts with the file and ends with where. */
export function inputError(file: string, problem: string, where: InputErrorWhere = {}): ProvError {
  const at = [where.row === undefined ? '' : `row ${where.row}`, where.line === undefined ? '' : `line ${where.line}`]
    .filter(Boolean)
    .join(', ');
  return new ProvError('PROV_ERR_INPUT', `${file}: ${problem}${at ? ` (${at})` : ''}`, {
    cause: where.cause,
    details: {
      file,
      ...(where.line === undefined ? {} : { line: where.line }),
      ...(where.row === undefined ? {} : { row: where.row }),
    },
  });
}
