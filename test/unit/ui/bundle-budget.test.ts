import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUi } from '../../../scripts/build-ui.ts';
import { UI_CSP } from '../../../src/http/index.ts';

/** The page's size budget (issue 23): everything a first load fetches, gzip-compressed. */
const BUDGET_BYTES = 150 * 1024;

describe('provenance page bundle', () => {
  const out = mkdtempSync(join(tmpdir(), 'ui-build-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it(`builds from ui/ and stays within ${BUDGET_BYTES / 1024} KiB compressed`, async () => {
    const files = await buildUi(out);
    const sizes = files.map((f) => gzipSync(readFileSync(join(out, f)), { level: 9 }).length);
    const total = sizes.reduce((a, b) => a + b, 0);
    console.log(`ui bundle: ${files.map((f, i) => `${f} ${sizes[i]} B`).join(', ')}; total ${total} B gzip`);
    expect(total).toBeGreaterThan(1000);
    expect(total).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('loads nothing from elsewhere and nothing inline (the CSP would refuse it)', () => {
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/);
    const js = readFileSync(join(out, 'assets', 'app.js'), 'utf8');
    expect(js).not.toMatch(/\beval\(|new Function\(/);
    expect(UI_CSP).not.toMatch(/unsafe-|\*/);
  });
});
