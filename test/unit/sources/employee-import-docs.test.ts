import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  renderMappingTable,
  renderTranslationTable,
  renderUnsupportedTable,
} from '../../../src/producers/sources/employee-import/docs.ts';

const doc = readFileSync(new URL('../../../docs/employee-import.md', import.meta.url), 'utf8');

/** Table cells and headings, whitespace and the formatter's column padding ignored. */
function cells(markdown: string): string[][] {
  return markdown
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^\|[\s|:-]+\|$/.test(l))
    .map((l) =>
      l.startsWith('|')
        ? l
            .slice(1, -1)
            .split(' | ')
            .map((c) => c.trim())
        : [l],
    );
}

function section(name: string): string {
  const start = doc.indexOf(`<!-- ${name}:start -->`);
  const end = doc.indexOf(`<!-- ${name}:end -->`);
  expect(start, name).toBeGreaterThan(-1);
  return doc.slice(start + name.length + 15, end);
}

describe('docs/employee-import.md', () => {
  it('shows the mapping of every supported record, the unsupported records and the code translations as the code has them', () => {
    expect(cells(section('mapping-table'))).toEqual(cells(renderMappingTable()));
    expect(cells(section('unsupported-table'))).toEqual(cells(renderUnsupportedTable()));
    expect(cells(section('translation-table'))).toEqual(cells(renderTranslationTable()));
  });
});
