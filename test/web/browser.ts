// The tests' page.evaluate callbacks run in the browser: they name its DOM.
/// <reference lib="dom" />
/**
 * Headless Chromium for the page's tests: Debian's package, installed by the
 * project's own script when missing, driven by playwright-core. Screenshots
 * go to test-artifacts/web/ (gitignored), where CI can keep them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import axe from 'axe-core';
import { chromiumArgs, ensureChromium } from '../../scripts/install-chromium.mjs';

export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'web');

export async function launch(): Promise<Browser> {
  const executablePath = ensureChromium();
  // playwright gives every launch a fresh temporary profile itself (it refuses --user-data-dir in args).
  return chromium.launch({ executablePath, headless: true, args: chromiumArgs(null) });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Waits for the page to say it has drawn (body[data-ready=what]). */
export async function ready(page: Page, what: string): Promise<void> {
  await page.waitForSelector(`body[data-ready="${what}"]`, { timeout: 15_000 });
}

/**
 * axe-core's WCAG checks on the page as drawn: the violations' rule ids and
 * the elements they name. axe is evaluated through the DevTools protocol,
 * which the page's Content-Security-Policy does not govern (an inline
 * <script> would be refused, as it should be).
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  const result = await page.evaluate(async () => {
    const a = (window as unknown as { axe: typeof axe }).axe;
    const r = await a.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  return result;
}

/** What the chart page leaves for tests: declared once, beside the code that fills it. */
export type { ChartProbe } from '../../web/src/runs.js';
