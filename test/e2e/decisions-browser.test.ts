import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDrop, toCsv } from '../../src/demo/generate.ts';
import { runCli } from '../../src/demo/processes.ts';
import { hasChromium, openBrowser } from '../helpers/browser.ts';
import { basic } from '../helpers/server.ts';
import { STACK_AUTH, startStack, type Stack } from '../helpers/stack.ts';

/*
 * Decisions in the browser (docs/operations.md#decisions), in headless Chromium against the real
 * server and workers: a held drop lists who it would deactivate and runs once approved; a planned
 * drop's plan pages through its rows and runs. Waits go through locators: the page's CSP
 * (script-src 'self') forbids the eval a string predicate would need.
 */

if (!hasChromium) console.warn('SKIPPING the decisions browser tests: /usr/bin/chromium is missing');

const auth = basic(STACK_AUTH.user, STACK_AUTH.password);
const login = { username: STACK_AUTH.user, password: STACK_AUTH.password };

describe.skipIf(!hasChromium)('decisions on the drop page (headless Chromium, e2e)', () => {
  let stack: Stack;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    // More than one deactivation holds a drop, so the demo drop (2 leavers) waits for a person.
    stack = await startStack({ server: true, env: { MAX_DEACTIVATIONS: '1' } });
    url = stack.serverUrl!;
    dir = await mkdtemp(join(tmpdir(), 'provision-decisions-'));
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const status = async (id: string): Promise<string> =>
    ((await (await fetch(`${url}/drops/${id}`, { headers: { authorization: auth } })).json()) as { status: string })
      .status;

  it('a held drop lists the people it would deactivate; Approve runs it to complete and shows who decided', async () => {
    const drop = generateDrop({ people: 200, seed: 21 });
    expect(drop.deactivated.length).toBeGreaterThan(1);
    const res = await fetch(`${url}/drops?filename=held.csv`, {
      method: 'POST',
      body: toCsv(drop.records),
      headers: { authorization: auth, 'content-type': 'text/csv' },
    });
    expect(res.status, await stack.logs()).toBe(201);
    const { dropId, status: first } = (await res.json()) as { dropId: string; status: string };
    expect(first).toBe('held');

    const { context, close } = await openBrowser(login);
    try {
      const page = await context.newPage();
      await page.goto(`${url}/#drop=${dropId}`);
      await page
        .locator('#drop-status')
        .filter({ hasText: /^held$/ })
        .waitFor({ timeout: 20_000 });
      const rows = page.locator('#people tbody tr');
      await rows.nth(drop.deactivated.length - 1).waitFor({ timeout: 10_000 });
      expect(await rows.count()).toBe(drop.deactivated.length);
      const listed = await page.locator('#people tbody tr td:nth-child(4)').allTextContents();
      expect(listed.sort()).toEqual([...drop.deactivated].sort());
      expect(await page.locator('#people tbody').textContent()).toContain('deactivate');
      expect(await page.isVisible('#act-approve')).toBe(true);
      expect(await page.isVisible('#act-cancel')).toBe(true);
      expect(await page.isVisible('#act-run')).toBe(false);

      await page.click('#act-approve');
      await page.locator('#decide-result').filter({ hasText: 'approve: held → running' }).waitFor({ timeout: 10_000 });
      await page
        .locator('#drop-status')
        .filter({ hasText: /^complete\b/ }) // "complete (some rows failed)": the demo drop has bad rows
        .waitFor({ timeout: 60_000 });
      await page.locator('#decisions tbody tr').first().waitFor({ timeout: 10_000 });
      const decision = await page.locator('#decisions tbody tr').first().textContent();
      expect(decision).toContain('approve');
      expect(decision).toContain(`${STACK_AUTH.user} (dashboard)`);
      expect(decision).toContain('127.0.0.1');
      expect(decision).toContain('held → running');
      expect(await page.isVisible('#act-approve')).toBe(false);
    } finally {
      await close();
    }
    expect(await status(dropId)).toBe('complete');
  });

  it("a planned drop's plan pages through its rows with their changes; Run plan starts it", async () => {
    // The first 120 people of the drop above, now with a new title and no leavers (so running the
    // plan does not hold it): the people the first drop created show as updates, title old → new.
    const records = generateDrop({ people: 200, seed: 21 })
      .records.slice(0, 120)
      .map((r) => ({ ...r, title: `Senior ${r.title}`, active: 'true' }));
    const path = join(dir, 'planned.csv');
    await writeFile(path, toCsv(records));
    const planned = await runCli(['ingest', '--plan', path, '--json'], stack.env);
    expect(planned.code, planned.stderr).toBe(0);
    const { dropId } = JSON.parse(planned.stdout) as { dropId: string };
    expect(await status(dropId)).toBe('planned');

    const { context, close } = await openBrowser(login);
    try {
      const page = await context.newPage();
      await page.goto(`${url}/#drop=${dropId}`);
      await page.locator('#plan-page').filter({ hasText: 'page 1 of 3 (120 rows)' }).waitFor({ timeout: 20_000 });
      expect(await page.locator('#plan tbody tr').count()).toBe(50);
      expect(await page.locator('#plan tbody tr').first().locator('td').first().textContent()).toBe('1');
      expect(await page.textContent('#plan-counts')).toMatch(/create \d+ · update \d+ · unchanged \d+ · deactivate 0/);
      expect(await page.isDisabled('#plan-prev')).toBe(true);
      expect(await page.textContent('#plan tbody')).toMatch(/title: [^;]+ → Senior /);

      await page.click('#plan-next');
      await page.locator('#plan-page').filter({ hasText: 'page 2 of 3' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('#plan tbody tr').first().locator('td').first().textContent()).toBe('51');
      await page.click('#plan-next');
      await page.locator('#plan-page').filter({ hasText: 'page 3 of 3' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('#plan tbody tr').count()).toBe(20);
      expect(await page.isDisabled('#plan-next')).toBe(true);

      await page.click('#act-run');
      await page.locator('#decide-result').filter({ hasText: 'run: planned → running' }).waitFor({ timeout: 10_000 });
      await page
        .locator('#drop-status')
        .filter({ hasText: /^complete\b/ }) // "complete (some rows failed)": the demo drop has bad rows
        .waitFor({ timeout: 60_000 });
      await page.locator('#decisions tbody tr').first().waitFor({ timeout: 10_000 });
      expect(await page.locator('#decisions tbody tr').first().textContent()).toContain('run');
    } finally {
      await close();
    }
    const cli = await runCli(['status', dropId, '--json'], stack.env);
    const printed = JSON.parse(cli.stdout) as { status: string; decisions: { action: string; by: string }[] };
    expect(printed.status).toBe('complete');
    expect(printed.decisions.map((d) => [d.action, d.by])).toEqual([['run', STACK_AUTH.user]]);
  });
});
