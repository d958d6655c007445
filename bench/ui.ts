import type { Page } from 'playwright-core';
import { buildUi } from '../scripts/build-ui.ts';
import { loadLocalEnv, up } from '../test/env/index.ts';
import { apiToken, ensureApiReaders } from '../test/helpers/api-tokens.ts';
import { launchChromium } from '../test/helpers/browser.ts';
import { startTestObserver } from '../test/helpers/observer.ts';
import { attestedTaskRun } from '../test/helpers/ui-runs.ts';

/**
 * The provenance page, page load → verified result, in real Chromium against an observer on the
 * local environment: one TaskRun attested with 20 subjects, its attestation page loaded `--loads`
 * times (default 30), each in a fresh browser context (cold: no cache, no connection reuse).
 * Reports two clocks: `in page`, navigation start to the page's `provenance:verdict` mark (the
 * fetches of summary, envelope and keys, key import, DSSE check, digest match); `wall`, from
 * `page.goto` to the verdict being visible, as the bench sees it. Reports only; asserts nothing.
 */
export async function runUiBench(args: string[]): Promise<string> {
  const loads = Number(args[args.indexOf('--loads') + 1]) || 30;
  await up(() => undefined, 'cli');
  const env = loadLocalEnv();
  await buildUi();
  await ensureApiReaders();
  const token = await apiToken('tenantA');
  const obs = await startTestObserver(env);
  const browser = await launchChromium();
  try {
    const run = await attestedTaskRun(env, obs, `ui-bench-${Date.now().toString(36)}`, 20);
    const url = `${obs.observer.apiAddress}/ui/attestations/${run.id}`;
    const inPage: number[] = [];
    const wall: number[] = [];
    const fetched: number[] = [];
    for (let i = 0; i < loads + 1; i++) {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      await context.addInitScript((t) => sessionStorage.setItem('provenance-observer.token', t), token);
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(url);
      await page.locator('#verdict[data-verified="true"]').waitFor();
      const elapsed = performance.now() - started;
      const { mark, apiDone } = await verdictMark(page);
      await context.close();
      if (i === 0) continue; // the first load warms the observer's access cache and Chromium
      wall.push(elapsed);
      inPage.push(mark);
      fetched.push(apiDone);
    }
    return [
      `| clock | loads | median ms | p95 ms |`,
      `| --- | --- | --- | --- |`,
      `| in page (navigation → verdict) | ${loads} | ${q(inPage, 0.5)} | ${q(inPage, 0.95)} |`,
      `| wall (goto → verdict visible) | ${loads} | ${q(wall, 0.5)} | ${q(wall, 0.95)} |`,
      `| of which: navigation → last /api/v1 answer | ${loads} | ${q(fetched, 0.5)} | ${q(fetched, 0.95)} |`,
      `| of which: last answer → verdict (WebCrypto, digest match, render) | ${loads} | ${q(
        inPage.map((m, i) => m - fetched[i]),
        0.5,
      )} | ${q(
        inPage.map((m, i) => m - fetched[i]),
        0.95,
      )} |`,
      '',
      `20 subjects, ECDSA P-256 key, TLS on 127.0.0.1, one fresh context per load (after one warm-up load).`,
    ].join('\n');
  } finally {
    await browser.close();
    await obs.stop();
  }
}

/** The verdict mark, and when the last /api/v1 answer ended (Resource Timing), both from navigation start. */
function verdictMark(page: Page): Promise<{ mark: number; apiDone: number }> {
  return page.evaluate(() => ({
    mark: performance.getEntriesByName('provenance:verdict')[0]?.startTime ?? Number.NaN,
    apiDone: Math.max(
      ...performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/api/v1/'))
        .map((e) => (e as unknown as { responseEnd: number }).responseEnd),
    ),
  }));
}

function q(values: number[], p: number): string {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN).toFixed(0);
}
