import {
  compileMapping,
  loadMappingFile,
  type MappingFile,
  type Transform,
} from '../../shared/mapping/mapping-file.ts';
import { resolveTemplateColumn } from '../../shared/mapping/template.ts';
import { fail, pass, reasonOf, type Check } from './check.ts';
import type { DoctorEnv } from './env.ts';

// The mapping file (docs/template.md#mapping-files): it must parse and compile, and the role codes
// it writes itself (constants, defaults, value maps) are compared with Concur's by spend.role-codes.

const LIST_SEPARATOR = /[;,|]/;
const isRoles = (column: string): boolean => resolveTemplateColumn(column)?.name === 'spend.roles';

/** Role codes a mapping puts into spend.roles by itself. */
export function mappingRoleCodes(m: MappingFile): string[] {
  const values: string[] = [];
  const fromTransforms = (transforms: readonly Transform[]): void => {
    for (const t of transforms) {
      if (typeof t !== 'object') continue;
      if ('map' in t) values.push(...Object.values(t.map));
      if ('constant' in t) values.push(t.constant);
      if ('default' in t) values.push(t.default);
    }
  };
  for (const [column, value] of [...Object.entries(m.constants), ...Object.entries(m.defaults)])
    if (isRoles(column)) values.push(value);
  for (const [column, transforms] of Object.entries(m.transforms)) if (isRoles(column)) fromTransforms(transforms);
  for (const spec of Object.values(m.columns)) {
    if (typeof spec === 'string') continue;
    const to = Array.isArray(spec.to) ? spec.to : [spec.to];
    if (to.some(isRoles)) fromTransforms(spec.transforms);
  }
  const codes = values.flatMap((v) => v.split(LIST_SEPARATOR)).map((c) => c.trim().toUpperCase());
  return [...new Set(codes.filter((c) => c !== ''))];
}

export async function mappingCheck(env: DoctorEnv): Promise<Check> {
  const path = env.options.mapping;
  if (!path) return pass('mapping.compiles', 'no --mapping: drops use the template columns (docs/template.md)');
  try {
    const mapping = await loadMappingFile(path);
    compileMapping(mapping);
    env.mappingRoles = mappingRoleCodes(mapping);
    const columns = Object.keys(mapping.columns).length;
    return pass('mapping.compiles', `${path}: ${columns} columns mapped`);
  } catch (err) {
    return fail('mapping.compiles', `${reasonOf(err)}; fix the mapping file (docs/template.md#mapping-files)`);
  }
}
