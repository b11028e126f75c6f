import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDrop, toCsv } from '../../src/demo/generate.ts';
import { CHROMIUM, hasChromium, openBrowser } from '../helpers/browser.ts';
import { basic } from '../helpers/server.ts';
import { STACK_AUTH, startStack, type Stack } from '../helpers/stack.ts';

if (!hasChromium)
  console.warn(
    `SKIPPING the drop-page browser test: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`,
  );

const auth = basic(STACK_AUTH.user, STACK_AUTH.password);
const drop = generateDrop({ people: 300, seed: 7 });
/** Chromium with the dashboard login saved. */
const browser = () => openBrowser({ username: STACK_AUTH.user, password: STACK_AUTH.password });

interface DropDetail {
  status: string;
  rows: number;
  settled: number;
  counts: Record<string, number>;
}

describe('server with real workers (e2e)', () => {
  let stack: Stack;
  let url: string;
  let dropId: string;

  beforeAll(async () => {
    stack = await startStack({ server: true });
    url = stack.serverUrl!;
    const res = await fetch(`${url}/drops?filename=people.csv`, {
      method: 'POST',
      body: toCsv(drop.records),
      headers: { authorization: auth, 'content-type': 'text/csv' },
    });
    expect(res.status, await stack.logs()).toBe(201);
    dropId = ((await res.json()) as { dropId: string }).dropId;
  });
  afterAll(async () => stack?.stop());

  const detail = async (): Promise<DropDetail> =>
    (await (await fetch(`${url}/drops/${dropId}`, { headers: { authorization: auth } })).json()) as DropDetail;

  it('Bull Board answers 401 without credentials and lists our queues with them', async () => {
    expect((await fetch(`${url}/admin/queues`)).status).toBe(401);
    expect((await fetch(`${url}/admin/queues/api/queues`)).status).toBe(401);
    const res = await fetch(`${url}/admin/queues/api/queues`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['extension', 'identity', 'status']);
  });

  it.skipIf(!hasChromium)(
    'the drop page in headless Chromium shows the drop settled, its failed rows in red',
    async () => {
      const { context, close } = await browser();
      try {
        const page = await context.newPage();
        await page.goto(`${url}/#drop=${dropId}`);
        // Locators, not page.waitForFunction: the page's CSP (script-src 'self') rightly forbids the
        // eval a string predicate needs, while locators run in playwright's isolated world.
        await page
          .locator('#drop-status')
          .filter({ hasText: /^complete/ })
          .waitFor({ timeout: 50_000 });
        // Some rows are invalid: not shown as a plain success, and they fill no part of the bar but
        // their own red segment (docs/operations.md).
        expect(await page.textContent('#drop-status')).toBe('complete (some rows failed)');
        expect(await page.getAttribute('#drop-status', 'class')).toContain('outcome-partial');
        const through = Math.floor(((300 - drop.bad.length) / 300) * 100);
        expect(await page.textContent('#settled-percent')).toBe(`${through}%`);
        expect(await page.getAttribute('#bar-settled', 'data-percent')).toBe(String(through));
        expect(Number(await page.getAttribute('#bar-settled-failed', 'data-percent'))).toBeGreaterThan(0);
        // The Concur rates the stack pins (IDENTITY_MAX_RPS=400, UPS_MAX_RPS=50), no 429 met.
        expect(await page.textContent('#rate-limits')).toBe(
          'Identity 400.0/s (fixed), no 429 · UPS 50.0/s (fixed), no 429',
        );
        // The invalid rows are listed with their reasons.
        await page
          .locator('#failed tbody tr')
          .nth(drop.bad.length - 1)
          .waitFor({ timeout: 10_000 });
        expect(await page.locator('#failed tbody tr').count()).toBe(drop.bad.length);
        expect(await page.textContent('#failed tbody')).toContain('invalid');
        // The list links to it too.
        expect(await page.textContent('#drops tbody')).toContain(dropId);
      } finally {
        await close();
      }
    },
  );

  it("completes the drop, and /metrics shows its rows, queue depths and the workers' Concur calls", async () => {
    const end = Date.now() + 50_000;
    let d = await detail();
    while (d.status !== 'complete' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 250));
      d = await detail();
    }
    expect(d.status, await stack.logs()).toBe('complete');
    expect(d.counts.invalid).toBe(drop.bad.length);
    // Nobody exists in Concur before this drop: rows to deactivate find no one and change nothing.
    expect(
      { done: d.counts.done, unchanged: d.counts.unchanged, settled: d.settled },
      JSON.stringify(d.counts),
    ).toEqual({
      done: 300 - drop.bad.length - drop.deactivated.length,
      unchanged: drop.deactivated.length,
      settled: 300,
    });

    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    let text = '';
    const until = Date.now() + 10_000;
    do {
      text = await (await fetch(`${url}/metrics`, { headers: { authorization: auth } })).text();
      if (/provision_concur_calls_total\{endpoint="\/profile\/v4\/Bulk"/.test(text)) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < until);
    expect(text).toContain(`provision_rows{state="done"} ${d.counts.done}`);
    expect(text).toContain(`provision_rows{state="invalid"} ${drop.bad.length}`);
    expect(text).toMatch(/provision_queue_jobs\{queue="identity",state="waiting"\} 0/);
    expect(text).toMatch(
      /provision_concur_calls_total\{endpoint="\/profile\/identity\/v4\.1\/Users",method="POST",status="2\d\d"\} [1-9]/,
    );
    expect(text).toMatch(
      /provision_concur_calls_total\{endpoint="\/profile\/v4\/Bulk",method="POST",status="\d+"\} [1-9]/,
    );
    expect(text).toMatch(
      /provision_concur_call_duration_seconds_count\{endpoint="\/profile\/identity\/v4\.1\/Users\/\.search"\} [1-9]/,
    );
  });

  const dropFiles = async (): Promise<string[]> => {
    const res = await fetch(`${url}/drops?limit=500`, { headers: { authorization: auth } });
    return ((await res.json()) as { drops: { file: string }[] }).drops.map((d) => d.file);
  };

  it.skipIf(!hasChromium)(
    'the page uploads a file through its form (same origin, so the CSRF guard lets it through)',
    async () => {
      const { context, close } = await browser();
      try {
        const page = await context.newPage();
        await page.goto(`${url}/`);
        const csv = toCsv(generateDrop({ people: 5, seed: 11 }).records);
        await page.setInputFiles('#upload-file', {
          name: 'from-page.csv',
          mimeType: 'text/csv',
          buffer: Buffer.from(csv),
        });
        await page.click('#upload button[type=submit]');
        await page
          .locator('#upload-result')
          .filter({ hasText: /^ingested: / })
          .waitFor({ timeout: 20_000 });
        expect(await dropFiles()).toContain('from-page.csv');
      } finally {
        await close();
      }
    },
  );

  it.skipIf(!hasChromium)(
    'a hostile page on another origin cannot upload a drop with the saved login: its form and its no-cors fetch get 403',
    async () => {
      const csv =
        'userName,givenName,familyName,email,employeeNumber\nevil@example.com,Evil,Page,evil@example.com,666\n';
      const html = `<!doctype html><html><body>
<form id="f" method="POST" enctype="multipart/form-data" action="${url}/drops?filename=evil-form.csv">
<input type="hidden" name="file" value="${csv.replace(/\n/g, '&#10;')}"></form>
<script>
fetch(${JSON.stringify(`${url}/drops?filename=evil-fetch.csv`)}, { method: 'POST', mode: 'no-cors', credentials: 'include', body: ${JSON.stringify(csv)} })
  .catch(() => undefined)
  .finally(() => document.getElementById('f').submit());
</script></body></html>`;
      const hostile = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
      await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
      const { context, close } = await browser();
      try {
        const page = await context.newPage();
        const formAnswer = page.waitForResponse((r) => r.url().includes('evil-form.csv') && r.status() !== 401, {
          timeout: 20_000,
        });
        await page.goto(`http://127.0.0.1:${(hostile.address() as AddressInfo).port}/`);
        expect((await formAnswer).status()).toBe(403);
        const files = await dropFiles();
        expect(files).not.toContain('evil-form.csv');
        expect(files).not.toContain('evil-fetch.csv');
      } finally {
        await close();
        hostile.close();
      }
    },
  );

  it('keeps the dashboard password out of every log line', async () => {
    const logs = await stack.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(STACK_AUTH.password);
  });
});
