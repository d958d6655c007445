import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's chromium (test/env/install-deps.sh installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Real Chromium, headless, driven by playwright-core (no bundled browser download). `--no-sandbox`
 * because tests run as root in CI, where Chromium refuses its sandbox.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/**
 * A page that trusts the observer's throwaway certificate (ignoreHTTPSErrors: the test's CA is not
 * in Chromium's store) and logs every request the page makes, for the "no other host" check.
 */
export async function observerPage(
  browser: Browser,
  viewport = { width: 1280, height: 900 },
): Promise<{ page: Page; requests: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport, timezoneId: 'Europe/Paris' });
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  return { page, requests, close: () => context.close() };
}

/** Pastes `token` into the page's token field (kept in sessionStorage for this tab). */
export async function useToken(page: Page, token: string): Promise<void> {
  await page.fill('#token', token);
  await page.click('form.token button[type=submit]');
}
