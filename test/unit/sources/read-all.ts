import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  openDrop,
  type DropItem,
  type DropSummary,
  type OpenDropOptions,
} from '../../../src/producers/sources/index.ts';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/drops/', import.meta.url));

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export async function readAll(
  path: string,
  options: OpenDropOptions = {},
): Promise<{ items: DropItem[]; summary: DropSummary }> {
  const reader = openDrop(path, options);
  const items: DropItem[] = [];
  for await (const item of reader) items.push(item);
  return { items, summary: reader.summary() };
}

/** Reads a drop and returns the ProvError it throws (fails the test when it does not throw). */
export async function readError(
  path: string,
  options: OpenDropOptions = {},
): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await readAll(path, options);
  } catch (err) {
    return err as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error(`expected ${path} to be rejected`);
}

/** A scratch directory for generated (binary, large) drop files. */
export function scratch(): { path(name: string, content?: string | Buffer): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'prov-drops-'));
  return {
    path(name, content) {
      const p = join(dir, name);
      if (content !== undefined) writeFileSync(p, content);
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function rows(items: DropItem[]) {
  return items.filter((i) => i.kind === 'row');
}

export function errors(items: DropItem[]) {
  return items.filter((i) => i.kind === 'error');
}
