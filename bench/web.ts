// page.evaluate callbacks run in the browser and name its DOM.
/// <reference lib="dom" />
/**
 * `npm run bench:web`: the web page's budgets (docs/web.md), measured in
 * headless Chromium (Debian's package, scripts/install-chromium.mjs) against
 * `mlmodel serve` in this process:
 *
 * - the page's JavaScript and CSS, minified and gzipped (budget: JS ≤ 300 KB),
 *   all of it and what the model list loads;
 * - the model list of a 1,000,000-model registry ready — from navigation
 *   start to the first page of rows drawn, script, session and query
 *   included — in a fresh browser context each time (goal < 1 s);
 * - a 100,000-point chart drawn by uPlot (goal < 200 ms).
 *
 * The 1,000,000-model registry: the bench's 3,000 real imports
 * (bench/lib/seed.ts) and their rows copied in SQL to 1,000,000 under new
 * names, ids and uids (importing a million archives one by one takes hours
 * on these machines); cached under ~/.cache/mlmodel/bench/web-1000000.
 *
 *   MLMODEL_BENCH_WEB_MODELS=1000000   registry size
 *   MLMODEL_BENCH_WEB_POINTS=100000    chart points
 *   MLMODEL_BENCH_RUNS=7               page loads timed per figure (median, p95)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { createQueryServer, type QueryServer } from '../console/serve/server.js';
import { openRegistry, type Registry } from '../src/engine/registry.js';
import { startRun } from '../src/tracking/client.js';
import { log, repoRoot } from './lib/cache.js';
import { fmt, goal, percentile, saveResults } from './lib/report.js';
import { bigHome } from './lib/big-home.js';

const MODELS = Number(process.env.MLMODEL_BENCH_WEB_MODELS ?? 1_000_000);
const POINTS = Number(process.env.MLMODEL_BENCH_WEB_POINTS ?? 100_000);
const RUNS = Number(process.env.MLMODEL_BENCH_RUNS ?? 7);

async function serve(home: string): Promise<{ registry: Registry; server: QueryServer; url: string }> {
  const registry = await openRegistry({ env: { MLMODEL_HOME: home, MLMODEL_USER: 'bench', HOME: process.env.HOME } });
  const server = createQueryServer({ registry });
  const { url } = await server.listen(0, '127.0.0.1');
  return { registry, server, url };
}

async function launch(): Promise<Browser> {
  const script = (await import(pathToFileURL(join(repoRoot, 'scripts', 'install-chromium.mjs')).href)) as typeof import('../scripts/install-chromium.mjs');
  return chromium.launch({ executablePath: script.ensureChromium(), headless: true, args: script.chromiumArgs(null) });
}

/** Navigation start → the list's first page drawn, in a fresh context (nothing cached) each time. */
async function listReady(browser: Browser, url: string): Promise<{ ready: number[]; query: number[]; script: number[] }> {
  const out: number[] = [];
  // Where the time goes, as the browser saw it: the list's POST /query (the store's work and the answer) and app.js's download.
  const query: number[] = [];
  const script: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="list"]', { timeout: 60_000 });
    const rows = await page.$$eval('#models tbody tr', (trs) => trs.length);
    if (rows === 0) throw new Error(`no rows at ${url}: ${await page.textContent('#list-status')}`);
    const ms = await page.evaluate(() => performance.getEntriesByName('mlmodel-list-ready')[0]!.startTime);
    // The first load also warms the server's store caches; it is reported apart.
    const parts = await page.evaluate(() => {
      const r = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const d = (suffix: string) => r.filter((e) => e.name.endsWith(suffix)).at(-1)?.duration ?? NaN;
      return { query: d('/query'), script: d('/app.js') };
    });
    if (i > 0) {
      out.push(ms);
      query.push(parts.query);
      script.push(parts.script);
    }
    else log(`first load of ${url.replace(/^http:\/\/[^/]+/, '')}: ${fmt(ms, 0)} ms`);
    await ctx.close();
  }
  return { ready: out, query, script };
}

const stats = (xs: number[]) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95) });

const webDir = join(repoRoot, 'dist', 'web');
const gz = (name: string) => gzipSync(readFileSync(join(webDir, name)), { level: 9 }).length;
const scripts = readdirSync(webDir).filter((f) => f.endsWith('.js'));
// What the model list loads: app.js and the chunks it imports statically (the runs pages and uPlot come on demand).
const listScripts = ['app.js', ...[...readFileSync(join(webDir, 'app.js'), 'utf8').matchAll(/from\s*"\.\/(chunk-[A-Z0-9]+\.js)"/g)].map((m) => m[1]!)];
const size = {
  js: scripts.reduce((n, f) => n + statSync(join(webDir, f)).size, 0),
  js_gzip: scripts.reduce((n, f) => n + gz(f), 0),
  list_js_gzip: listScripts.reduce((n, f) => n + gz(f), 0),
  css_gzip: gz('app.css'),
};
console.log(
  `page JavaScript, all of it: ${fmt(size.js / 1024, 1)} KB minified, ${fmt(size.js_gzip / 1024, 1)} KB gzipped` +
    ` (the model list loads ${fmt(size.list_js_gzip / 1024, 1)} KB of it); CSS ${fmt(size.css_gzip / 1024, 1)} KB gzipped`,
);

const browser = await launch();
const results: Record<string, unknown> = { size };
const goals: string[] = [goal('page JS ≤ 300 KB gzipped', size.js_gzip <= 300 * 1024, `${fmt(size.js_gzip / 1024, 1)} KB`)];
try {
  log(`a registry of ${MODELS.toLocaleString('en-US')} models`);
  const big = await serve(await bigHome(MODELS));
  try {
    const pages: Record<string, string> = {
      'newest first (the default, sort -modified)': '/ui/',
      'by name (sort name)': '/ui/?sort=name',
      'search: type = tf and category = classification': `/ui/?q=${encodeURIComponent('type = tf and category = classification')}&sort=modified&desc=1`,
    };
    const list: Record<string, { p50: number; p95: number; query_p50: number; script_p50: number }> = {};
    for (const [label, path] of Object.entries(pages)) {
      const t = await listReady(browser, big.url + path);
      list[label] = { ...stats(t.ready), query_p50: percentile(t.query, 50), script_p50: percentile(t.script, 50) };
      console.log(
        `list page of ${MODELS.toLocaleString('en-US')} models, ${label}: ready in ${fmt(list[label].p50, 0)} ms p50, ${fmt(list[label].p95, 0)} ms p95` +
          ` (its POST /query ${fmt(percentile(t.query, 50), 0)} ms, app.js ${fmt(percentile(t.script, 50), 0)} ms, p50)`,
      );
    }
    results.list = list;
    const first = Object.values(list)[0]!.p50;
    goals.push(goal(`list page of ${MODELS.toLocaleString('en-US')} models ready < 1 s (the default page)`, first < 1000, `${fmt(first, 0)} ms p50`));
  } finally {
    await big.server.close();
    await big.registry.close();
  }

  log(`a run with ${POINTS.toLocaleString('en-US')} points`);
  const root = mkdtempSync(join(tmpdir(), 'mlmodel-bench-web-'));
  const small = await serve(root);
  try {
    const run = await startRun(small.registry, { experiment: 'bench', name: 'web' });
    await run.logBatch(Array.from({ length: POINTS }, (_, i) => ({ key: 'loss', value: 1 / (i + 1) + Math.sin(i / 50) * 0.01 + 0.02, step: i })));
    const draws: number[] = [];
    let drawn = 0;
    for (let i = 0; i < RUNS + 1; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await ctx.newPage();
      await page.goto(`${small.url}/ui/chart?runs=${run.id}&metric=loss&points=${POINTS}`);
      await page.waitForSelector('body[data-ready="chart"]', { timeout: 60_000 });
      const probe = await page.evaluate(() => {
        const p = (window as unknown as { mlmodelChart: { drawMs: number; data: unknown[][] } }).mlmodelChart;
        return { ms: p.drawMs, points: p.data[0]!.length };
      });
      drawn = probe.points;
      if (i > 0) draws.push(probe.ms);
      await ctx.close();
    }
    const d = stats(draws);
    results.chart = { points: drawn, ...d };
    console.log(`chart of ${drawn.toLocaleString('en-US')} points (the server's reduction of ${POINTS.toLocaleString('en-US')} asked for ${POINTS.toLocaleString('en-US')}): drawn in ${fmt(d.p50, 0)} ms p50, ${fmt(d.p95, 0)} ms p95`);
    goals.push(goal(`${POINTS.toLocaleString('en-US')}-point chart drawn < 200 ms`, d.p50 < 200, `${fmt(d.p50, 0)} ms p50 for ${drawn.toLocaleString('en-US')} points`));
  } finally {
    await small.server.close();
    await small.registry.close();
    rmSync(root, { recursive: true, force: true });
  }
} finally {
  await browser.close();
}
results.goals = goals;
console.log(`saved ${saveResults('web', results)}`);
