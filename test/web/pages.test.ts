import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../console/serve/web.js';
import { archives } from '../integration/archives.js';
import { call, rawRequest, startHarness, TOKENS, type Harness } from '../http/harness.js';
import { axeViolations, launch, ready, screenshot } from './browser.js';

/**
 * The web page served by `mlmodel serve`, in headless Chromium against a real
 * registry on the embedded stores: alice's and bob's models, two of alice's
 * training runs, tokens configured (so the page asks for a login).
 */
let h: Harness;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const runs: number[] = [];
/** More than one page of models (a page holds 50). */
const MODELS = 57;

async function api(q: string, token: keyof typeof TOKENS = 'alice') {
  const r = await call(h, 'POST', '/query', { token, body: { q } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { fields: { name: string }[]; results: unknown[][] };
}

async function rowsOf(p: Page, selector: string): Promise<string[][]> {
  return p.$$eval(`${selector} tbody tr`, (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
}

async function accessible(p: Page, name: string): Promise<void> {
  expect(await axeViolations(p), `axe on the ${name} page`).toEqual([]);
  await screenshot(p, name);
}

beforeAll(async () => {
  [h, browser] = await Promise.all([startHarness({ httpConfig: '  readers: [bob]\n' }), launch()]);
  const tf = join(h.inbox, 'tf.tar');
  const sk = join(h.inbox, 'sk.tgz');
  writeFileSync(tf, archives.tfSavedModel());
  writeFileSync(sk, archives.sklearn());
  const lines = Array.from({ length: MODELS }, (_, i) =>
    i % 3 === 0 ? `mlmodel import name=churn-${String(i).padStart(2, '0')} type=sklearn category=classification path=${sk}` : `mlmodel import name=mnist-${String(i).padStart(2, '0')} type=tf path=${tf}`,
  );
  const imported = await call(h, 'POST', '/query/script', { token: 'alice', body: { script: lines.join('\n') } });
  expect(imported.status, JSON.stringify(imported.body).slice(0, 500)).toBe(200);
  await api(`mlmodel import name=bobs-model type=tf path=${tf}`, 'ops');
  await api('mlmodel tag mnist-01 stable, prod');
  await api(`mlmodel import name=mnist-01 type=tf path=${tf}`);
  await api('mlmodel alias mnist-01@1 champion');
  for (const [name, lr] of [['baseline', 0.1], ['faster', 0.3]] as const) {
    const started = await call(h, 'POST', '/runs', { token: 'alice', body: { experiment: 'web', name, params: { lr, epochs: 5 } } });
    const id = started.body.results[0][0] as number;
    runs.push(id);
    const metrics = Array.from({ length: 3000 }, (_, step) => ({ key: 'loss', value: (lr * 10) / (step + 1) + (step === 1200 ? 5 : 0), step }));
    // In batches the query API's 64 KiB body limit holds.
    for (let i = 0; i < metrics.length; i += 1000) {
      expect((await call(h, 'POST', `/runs/${id}/metrics`, { token: 'alice', body: { metrics: metrics.slice(i, i + 1000) } })).status).toBe(200);
    }
    expect((await call(h, 'POST', `/runs/${id}/metrics`, { token: 'alice', body: { step: 3000, values: { acc: 0.9 + lr / 10 } } })).status).toBe(200);
  }
  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('the web page', () => {
  it('asks for a token, refuses a wrong one, and logs in with a session cookie the page cannot read', async () => {
    const res = await page.goto(h.url + '/');
    expect(res!.url()).toBe(h.url + '/ui/');
    expect(res!.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    await ready(page, 'login');
    await accessible(page, 'login');
    await page.fill('#token', 'not-a-token-at-all');
    await page.press('#token', 'Enter');
    await page.waitForFunction(() => document.getElementById('login-status')?.textContent?.includes('not valid'));
    await page.fill('#token', TOKENS.alice);
    await page.press('#token', 'Enter');
    await ready(page, 'list');
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'mlmodel_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(TOKENS.alice);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(await page.textContent('#who')).toContain('alice');
  });

  it('lists the models a page at a time, in the order of a sortable column, the pages together the whole list', async () => {
    await page.goto(h.url + '/ui/');
    await ready(page, 'list');
    expect(await page.getAttribute('th:has(button[data-sort="modified"])', 'aria-sort')).toBe('descending');
    await accessible(page, 'list');
    for (const [column, descending, keys] of [
      ['name', false, 'name'],
      ['modified', true, '-modified, -id'],
      ['type', false, 'type, id'],
    ] as const) {
      // The list's order as the API gives it for the same sort: the pages must walk it exactly, none missed or repeated.
      const want = (await api(`mlmodel list | sort ${keys} | fields name`)).results.map((r) => String(r[0]));
      expect(want.length).toBe(MODELS + 1);
      await page.goto(`${h.url}/ui/?sort=${column}${descending ? '&desc=1' : ''}`);
      await ready(page, 'list');
      expect(await page.getAttribute(`th:has(button[data-sort="${column}"])`, 'aria-sort')).toBe(descending ? 'descending' : 'ascending');
      const seen: string[] = [];
      for (let p = 0; p < 5; p++) {
        seen.push(...(await rowsOf(page, '#models')).map((r) => r[1]!));
        if (await page.isDisabled('#next')) break;
        await page.click('#next');
        await ready(page, 'list');
      }
      expect(seen, `sorted by ${column}`).toEqual(want);
      await page.click('#prev');
      await ready(page, 'list');
      expect((await rowsOf(page, '#models')).map((r) => r[1])).toEqual(want.slice(0, 50));
    }
    // Clicking a column's heading sorts by it; again, the other way.
    await page.click('button[data-sort="name"]');
    await ready(page, 'list');
    await page.click('button[data-sort="name"]');
    await ready(page, 'list');
    const names = (await rowsOf(page, '#models')).map((r) => r[1]!);
    expect(names[0]).toBe('mnist-56');
    expect([...names].sort().reverse()).toEqual(names);
  });

  it('takes a query in the search box, from the keyboard, and shows the rows the API gives for it', async () => {
    await page.goto(h.url + '/ui/');
    await ready(page, 'list');
    // Tab from the top of the page reaches the search box, in the order a keyboard user meets it.
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'search'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.id ?? '');
    }
    expect(focused).toBe('search');
    const q = "type = sklearn and name like 'churn-1%' or name = bobs-model";
    await page.keyboard.type(q);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('#models tbody tr').length < 10);
    await ready(page, 'list');
    // The page's default order: newest first.
    const want = (await api(`mlmodel list | where ${q} | sort -modified, -id | fields name, user, type`)).results;
    expect(want.length).toBeGreaterThan(1);
    expect((await rowsOf(page, '#models')).map((r) => [r[1], r[2], r[3]])).toEqual(want);
    await screenshot(page, 'list-search');
    // A query the language refuses is explained, with nothing listed.
    await page.fill('#search', 'type = = tf');
    await page.press('#search', 'Enter');
    await page.waitForFunction(() => document.getElementById('list-status')?.textContent?.includes('failed'));
    expect(await rowsOf(page, '#models')).toEqual([]);
    // Back to the query, then Tab onto the first model's link and Enter opens it.
    await page.fill('#search', 'name = mnist-01');
    await page.press('#search', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#models tbody tr').length === 1);
    await page.focus('#search');
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.textContent)) === 'mnist-01') break;
    }
    await page.keyboard.press('Enter');
    await ready(page, 'model');
    expect(new URL(page.url()).pathname).toBe('/ui/models/mnist-01');
  });

  it('shows a model: summary, versions, tags, aliases, files and serving; its owner deploys and stops it', async () => {
    await page.goto(h.url + '/ui/models/mnist-01');
    await ready(page, 'model');
    expect(await page.textContent('h1')).toBe('mnist-01');
    const summary = Object.fromEntries((await rowsOf(page, 'section[aria-label="Summary"]')).map((r) => [r[0], r[1]]));
    expect(summary).toMatchObject({ name: 'mnist-01', user: 'alice', type: 'tf', serving: 'off' });
    expect((await rowsOf(page, 'section[aria-label="Versions"]')).map((r) => r[0])).toEqual(['1', '2']);
    expect(await page.textContent('#tags')).toBe('Tags: stable, prod');
    expect(await page.textContent('#aliases')).toBe('Aliases: champion');
    const files = (await rowsOf(page, 'section[aria-label="Files"]')).map((r) => r[0]);
    expect(files).toContain('export/1/saved_model.pb');
    await accessible(page, 'model');
    await page.fill('#deploy-label', 'canary');
    await page.click('#deploy');
    await page.waitForFunction(() => document.getElementById('model-status')?.textContent === 'Deployed mnist-01.');
    await ready(page, 'model');
    const serving = await rowsOf(page, 'section[aria-label="Serving history"]');
    expect(serving.map((r) => [r[0], r[1], r[2]])).toEqual([['1', 'AVAILABLE', 'canary']]);
    expect((await api('mlmodel list | where name = mnist-01 | fields serving')).results).toEqual([['on']]);
    await screenshot(page, 'model-deployed');
    await page.click('#stop');
    await page.waitForFunction(() => document.getElementById('model-status')?.textContent === 'Stopped mnist-01.');
    await ready(page, 'model');
    expect((await rowsOf(page, 'section[aria-label="Serving history"]')).map((r) => r[1])).toEqual(['STOPPED']);
    // Another user's model offers no deploy or stop.
    await page.goto(h.url + '/ui/models/bobs-model');
    await ready(page, 'model');
    expect(await page.$('#deploy')).toBeNull();
    expect(await page.textContent('main')).toContain('Only ops may deploy or stop this model');
  });

  it('refuses a write without the CSRF token, a forged one, and any write from another origin', async () => {
    await page.goto(h.url + '/ui/models/mnist-02');
    await ready(page, 'model');
    const tries = await page.evaluate(async () => {
      const post = (headers: Record<string, string>) =>
        fetch('/query', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ q: 'mlmodel delete mnist-02' }) }).then(async (r) => [r.status, ((await r.json()) as { error: { message: string } }).error.message] as const);
      return [await post({}), await post({ 'X-CSRF-Token': 'forged-forged-forged-forged-forged-forged-xx' })];
    });
    for (const [status, message] of tries) {
      expect(status).toBe(403);
      expect(message).toContain('CSRF token');
    }
    const cookie = (await context.cookies())[0]!;
    const csrf = (await page.evaluate(() => fetch('/ui/session').then((r) => r.json()))) as { csrf: string };
    const headers = { Host: new URL(h.url).host, Cookie: `${cookie.name}=${cookie.value}`, 'Content-Type': 'application/json', 'X-CSRF-Token': csrf.csrf };
    const body = JSON.stringify({ q: 'mlmodel delete mnist-02' });
    // The session's own token from a page of another origin: refused before the cookie is looked at.
    const foreign = await rawRequest(h.url, 'POST', '/query', { ...headers, Origin: 'http://evil.example' }, body);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('FORBIDDEN_ORIGIN');
    const site = await rawRequest(h.url, 'POST', '/query', { ...headers, 'Sec-Fetch-Site': 'cross-site' }, body);
    expect(site.status).toBe(403);
    // A form post (no JSON) is refused too, whatever it carries.
    const form = await rawRequest(h.url, 'POST', '/query', { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' }, 'q=mlmodel+delete+mnist-02');
    expect(form.status).toBe(415);
    expect((await api('mlmodel list | where name = mnist-02 | fields name')).results).toEqual([['mnist-02']]);
    // The same request with the token, from the page's own origin, goes through: the refusals above were the token's doing.
    const ok = await rawRequest(h.url, 'POST', '/query', headers, JSON.stringify({ q: 'mlmodel list | where name = mnist-02 | fields user' }));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.results).toEqual([['alice']]);
    // A logged-out session's cookie is refused.
    const stale = await rawRequest(h.url, 'POST', '/query', { ...headers, Cookie: `${cookie.name}=not-a-session` }, body);
    expect(stale.status).toBe(401);
    // Only the built files are served: no other name, no path out of dist/web.
    for (const path of ['/ui/assets/chunk-NOPE.js', '/ui/assets/..%2F..%2Fpackage.json', '/ui/assets/app.js.map', '/ui/assets/']) {
      expect((await rawRequest(h.url, 'GET', path, { Host: headers.Host })).status, path).toBe(404);
    }
    // The page's CSP forbids inline script: one put into the page does not run.
    const ran = await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.append(s);
      await new Promise((r) => setTimeout(r, 50));
      return (window as unknown as { __inline?: number }).__inline;
    });
    expect(ran).toBeUndefined();
  });

  it('lists runs, charts one with the server’s downsampled points, overlays two, and draws a log scale and smoothing', async () => {
    await page.goto(h.url + '/ui/runs');
    await ready(page, 'runs');
    await accessible(page, 'runs');
    await page.click(`a[href="/ui/chart?runs=${runs[0]}"]`);
    await ready(page, 'chart');
    const probe = () => page.evaluate(() => window.mlmodelChart!);
    const one = await probe();
    const points = await page.evaluate(() => Math.max(2, Math.round((document.getElementById('chart')!.clientWidth || 900) * 2)));
    const served = await call(h, 'GET', `/runs/${runs[0]}/chart?metric=acc&points=${points}`, { token: 'alice' });
    // The metric first in the picker is acc; the drawn points are the server's, step for step.
    expect(await page.inputValue('#metric')).toBe('acc');
    expect(one.data).toEqual([served.body.results.map((r: unknown[]) => r[1]), served.body.results.map((r: unknown[]) => r[2])]);
    await page.selectOption('#metric', 'loss');
    await page.waitForFunction(() => window.mlmodelChart && window.mlmodelChart.data[0]!.length > 100);
    const loss = await probe();
    const full = await call(h, 'GET', `/runs/${runs[0]}/chart?metric=loss&points=${points}`, { token: 'alice' });
    expect(loss.data[0]).toEqual(full.body.results.map((r: unknown[]) => r[1]));
    expect(loss.data[1]).toEqual(full.body.results.map((r: unknown[]) => r[2]));
    // The spike at step 1200 survives the reduction.
    expect(loss.data[0]).toContain(1200);
    expect(Math.max(...(loss.data[1] as number[]))).toBeGreaterThan(5);
    await accessible(page, 'chart');
    await page.check('#log-scale');
    await page.waitForFunction(() => window.mlmodelChart?.log === true);
    await page.fill('#smoothing', '0.9');
    await page.dispatchEvent('#smoothing', 'input');
    await page.waitForFunction(() => document.getElementById('smoothing-value')?.textContent === '0.9');
    const smoothed = await probe();
    expect(smoothed.data[0]).toEqual(loss.data[0]);
    // Smoothing pulls the spike down, and leaves the first point as it was (the average is debiased).
    expect(Math.max(...(smoothed.data[1] as number[]))).toBeLessThan(Math.max(...(loss.data[1] as number[])));
    expect(smoothed.data[1]![0]).toBeCloseTo(loss.data[1]![0] as number, 9);
    await screenshot(page, 'chart-log-smoothed');
    // Zoom: a drag across the plot narrows the x scale.
    const over = (await page.$('#chart .u-over'))!;
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => window.mlmodelChart!.x[1] - window.mlmodelChart!.x[0] < 2000);
    const zoomed = await probe();
    expect(zoomed.x[0]).toBeGreaterThan(0);
    expect(zoomed.x[1]).toBeLessThan(3000);
    // Two runs overlaid: one series each, on the steps of both.
    await page.goto(`${h.url}/ui/chart?runs=${runs.join(',')}&metric=loss`);
    await ready(page, 'chart');
    const both = await probe();
    expect(both.series).toEqual([`run ${runs[0]} (baseline)`, `run ${runs[1]} (faster)`]);
    expect(both.data).toHaveLength(3);
    expect((both.data[1] as number[])[0]).toBeCloseTo(1, 9);
    expect((both.data[2] as number[])[0]).toBeCloseTo(3, 9);
    await screenshot(page, 'chart-two-runs');
  });

  it('compares two runs picked on the runs page, the changed parameters highlighted', async () => {
    await page.goto(h.url + '/ui/runs');
    await ready(page, 'runs');
    await page.check(`#pick-${runs[0]}`);
    await page.check(`#pick-${runs[1]}`);
    await page.click('#compare-selected');
    await ready(page, 'compare');
    const highlighted = await page.$$eval('#compare tbody tr.changed', (trs) => trs.map((tr) => tr.querySelector('td')!.textContent));
    const want = (await api(`mlmodel compare ${runs.join(', ')} | where changed = true | fields field`)).results.map((r) => r[0]);
    expect(highlighted).toEqual(want);
    expect(highlighted).toContain('params.lr');
    expect(highlighted).not.toContain('params.epochs');
    await accessible(page, 'compare');
  });

  it('gives a read-only user the pages without the writes', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(h.url + '/ui/');
    await ready(p, 'login');
    await p.fill('#token', TOKENS.bob);
    await p.press('#token', 'Enter');
    await ready(p, 'list');
    expect(await p.textContent('#who')).toContain('bob (read-only)');
    await p.goto(h.url + '/ui/models/mnist-02');
    await ready(p, 'model');
    expect(await p.$('#deploy')).toBeNull();
    // The server refuses it anyway, with the session's own CSRF token.
    const refused = await p.evaluate(async () => {
      const s = (await fetch('/ui/session').then((r) => r.json())) as { csrf: string };
      const r = await fetch('/query', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf }, body: JSON.stringify({ q: 'mlmodel stop mnist-02' }) });
      return r.status;
    });
    expect(refused).toBe(403);
    await p.click('#logout');
    await ready(p, 'login');
    await ctx.close();
  });
});
