import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUi } from '../../scripts/build-ui.ts';
import { type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { apiToken, ensureApiReaders } from '../helpers/api-tokens.ts';
import { launchChromium, observerPage, useToken } from '../helpers/browser.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { attestedPipelineRun, attestedTaskRun } from '../helpers/ui-runs.ts';

const SHOTS = join(import.meta.dirname, '..', '..', '.local', 'ui-screenshots');

// The provenance page in real Chromium against the observer on the local environment: runs made
// and attested for real, tokens minted by the apiserver, signatures checked by the page itself.
describe('provenance page in Chromium (real observer, apiserver, registry)', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  let browser: Browser;
  let base: string;
  let indexPath: string;
  let keyId: string;
  const tokens = { a: '', b: '' };
  const stamp = Date.now().toString(36);
  let tr: Awaited<ReturnType<typeof attestedTaskRun>>;
  let pr: Awaited<ReturnType<typeof attestedPipelineRun>>;
  const requests: string[] = [];
  const opened: (() => Promise<void>)[] = [];

  async function open(
    token: string,
    path: string,
    viewport?: { width: number; height: number },
  ): Promise<Page> {
    const p = await observerPage(browser, viewport);
    opened.push(p.close);
    p.page.on('request', (r) => requests.push(r.url()));
    p.page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
    p.page.on('console', (m) => console.log(`[page] ${m.text()}`));
    await p.page.goto(`${base}/ui/`);
    await useToken(p.page, token);
    await p.page.goto(`${base}${path}`);
    return p.page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, name), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await buildUi();
    env = loadLocalEnv();
    await ensureApiReaders();
    [tokens.a, tokens.b] = await Promise.all([apiToken('tenantA'), apiToken('tenantB')]);
    indexPath = join(mkdtempSync(join(tmpdir(), 'ui-index-')), 'index.db');
    obs = await startTestObserver(env, { 'index.path': indexPath });
    base = obs.observer.apiAddress ?? '';
    keyId = (await obs.api('/api/v1/keys')).json<{ keys: { keyId: string }[] }>().keys[0].keyId;
    [tr, pr] = await Promise.all([
      attestedTaskRun(env, obs, `ui-tr-${stamp}`),
      attestedPipelineRun(env, obs, `ui-pr-${stamp}`),
    ]);
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const close of opened) await close().catch(() => undefined);
    await browser?.close();
    await obs?.stop();
  });

  it('serves the page with a strict CSP and without a token; data needs one', async () => {
    const page = await obs.api('/ui/attestations/whatever');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe');
    expect(page.text).toContain('/ui/assets/app.js');
    expect((await obs.api(`/api/v1/attestations/${tr.id}`)).status).toBe(401);
  });

  it('a tenant finds its image by reference and sees its attestation verified in the browser', async () => {
    const page = await open(tokens.a, '/ui/');
    await page.fill('#q', `${env.registry}/${tr.repository}@${tr.image.digest}`);
    await page.press('#q', 'Enter');
    await page.waitForURL(`**/ui/digests/${tr.image.digest}`);
    const link = page.locator(`a[href^="/ui/attestations/${tr.id}"]`);
    await link.waitFor();
    await shot(page, '1-search-results.png');
    await link.click();
    const verdict = page.locator('#verdict');
    await verdict.waitFor();
    expect(await verdict.getAttribute('data-verified')).toBe('true');
    expect(await verdict.innerText()).toContain(`Verified in your browser with key ${keyId}`);
    expect(await verdict.innerText()).toContain('including the one you asked about');
    const signatures = await page.locator('table:has(caption:text("Signatures"))').innerText();
    expect(signatures).toContain(keyId);
    expect(signatures).toContain('published platform key');
    await shot(page, '2-attestation-verified.png');
  });

  it('a skipped subject shows its reason code', async () => {
    const page = await open(tokens.a, `/ui/attestations/${tr.id}`);
    const skipped = page.locator('table:has(caption:text("Inputs left out"))');
    await skipped.waitFor();
    const text = await skipped.innerText();
    expect(text).toContain('digest_invalid');
    expect(text).toContain('BAD_IMAGE_DIGEST');
  });

  it('a PipelineRun shows which task produced each subject', async () => {
    const page = await open(tokens.a, `/ui/attestations/${pr.id}`);
    await page.locator('#verdict[data-verified="true"]').waitFor();
    const subjects = await page.locator('table:has(caption:text("Subjects"))').innerText();
    expect(subjects).toContain('Produced by task');
    expect(subjects).toContain(`build (TaskRun ${pr.child})`);
    expect(subjects).toContain(pr.image.digest);
    await shot(page, '3-pipelinerun-producers.png');
  });

  it('without a token the page asks for one (401), and keeps none after "Forget"', async () => {
    const p = await observerPage(browser);
    opened.push(p.close);
    p.page.on('request', (r) => requests.push(r.url()));
    await p.page.goto(`${base}/ui/attestations/${tr.id}`);
    await p.page.locator('.notice h2').waitFor();
    expect(await p.page.locator('.notice h2').innerText()).toBe('Sign in to see provenance');
    await shot(p.page, '0-sign-in.png');
    await useToken(p.page, tokens.a);
    await p.page.locator('#verdict[data-verified="true"]').waitFor();
    await p.page.click('#forget');
    expect(await p.page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("another tenant's run is refused (403 by namespace, 404 by id)", async () => {
    const page = await open(tokens.b, `/ui/runs/tenant-a/taskruns/${tr.name}`);
    await page.locator('.notice h2').waitFor();
    expect(await page.locator('.notice h2').innerText()).toBe('Not allowed');
    await shot(page, '4-other-tenant-refused.png');
    await page.goto(`${base}/ui/attestations/${tr.id}`);
    await page.locator('.notice h2').waitFor();
    expect(await page.locator('.notice h2').innerText()).toBe('Nothing found');
    expect(await page.locator('#verdict').count()).toBe(0);
  });

  it('deep links work after a reload, and on a narrow window', async () => {
    const page = await open(tokens.a, `/ui/runs/tenant-a/taskruns/${tr.name}`, { width: 390, height: 844 });
    await page.locator(`a[href^="/ui/attestations/${tr.id}"]`).waitFor();
    await page.reload();
    await page.locator(`a[href^="/ui/attestations/${tr.id}"]`).waitFor();
    expect(await page.locator('h1').innerText()).toBe(`TaskRun tenant-a/${tr.name}`);
    await shot(page, '5-run-narrow.png');
    await page.goto(`${base}/ui/attestations/${tr.id}`);
    await page.reload();
    await page.locator('#verdict[data-verified="true"]').waitFor();
    await shot(page, '6-attestation-narrow.png');
  });

  it('says plainly when the API cannot be reached, and finds things by keyboard alone', async () => {
    const page = await open(tokens.a, '/ui/');
    await page.keyboard.press('Tab'); // the skip link first
    expect(await page.locator(':focus').innerText()).toBe('Skip to results');
    await page.focus('#q');
    await page.keyboard.type(`tenant-a/${tr.name}`);
    await page.keyboard.press('Enter');
    await page.locator(`a[href^="/ui/attestations/${tr.id}"]`).waitFor();
    expect(await page.locator('h1:focus').count()).toBe(1); // focus moves to the result
    // the connection to the API fails while the page is loaded (the observer restarting)
    await page.route('**/api/v1/**', (route) => route.abort('connectionrefused'));
    await page.reload();
    await page.locator('.notice h2').waitFor();
    expect(await page.locator('.notice h2').innerText()).toBe('The observer API is down');
  });

  it('a tampered envelope (one byte changed in the index) shows "not verified" with the reason', async () => {
    const db = new DatabaseSync(indexPath);
    try {
      const row = db.prepare('SELECT envelope FROM attestations WHERE id = ?').get(tr.id) as {
        envelope: string;
      };
      const envelope = JSON.parse(row.envelope) as { payload: string };
      const at = Math.floor(envelope.payload.length / 2);
      const changed = envelope.payload[at] === 'A' ? 'B' : 'A';
      envelope.payload = envelope.payload.slice(0, at) + changed + envelope.payload.slice(at + 1);
      db.prepare('UPDATE attestations SET envelope = ? WHERE id = ?').run(JSON.stringify(envelope), tr.id);
    } finally {
      db.close();
    }
    const page = await open(tokens.a, `/ui/attestations/${tr.id}`);
    const verdict = page.locator('#verdict');
    await verdict.waitFor();
    expect(await verdict.getAttribute('data-verified')).toBe('false');
    const reason = await verdict.locator('.reason').innerText();
    expect(reason).toContain('Not verified');
    expect(reason).toContain(`signature by ${keyId} does not verify`);
    await shot(page, '7-tampered-not-verified.png');
  });

  it('the page asked no host but the observer', () => {
    const origin = new URL(base).origin;
    expect(requests.length).toBeGreaterThan(10);
    const elsewhere = requests.filter(
      (u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'),
    );
    expect(elsewhere).toEqual([]);
  });
});
