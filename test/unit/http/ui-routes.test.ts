import { describe, expect, it } from 'vitest';
import { buildApiServer, UI_CSP, type UiAssets } from '../../../src/http/index.ts';
import { CursorSealer, SqliteIndex } from '../../../src/index/index.ts';
import { fakeAuthorizer } from './fake-authorizer.ts';

const ui: UiAssets = {
  files: new Map([
    ['index.html', { body: Buffer.from('<!doctype html><p>page</p>'), type: 'text/html; charset=utf-8' }],
    ['assets/app.js', { body: Buffer.from('export {}'), type: 'text/javascript; charset=utf-8' }],
    ['assets/app.css', { body: Buffer.from('body{}'), type: 'text/css; charset=utf-8' }],
  ]),
};

function build(assets: UiAssets | undefined) {
  return buildApiServer({
    index: new SqliteIndex({ path: ':memory:' }),
    publicKeys: () => [],
    authorizer: fakeAuthorizer({ tokens: {}, grants: [] }).authorizer,
    cursors: new CursorSealer(),
    ui: assets,
  });
}

describe('GET /ui/', () => {
  it('answers index.html for every page path (deep links), with the CSP, and no token needed', async () => {
    const app = build(ui);
    for (const url of ['/ui/', '/ui/attestations/abc', '/ui/runs/tenant-a/taskruns/build-1']) {
      const res = await app.inject({ url });
      expect([url, res.statusCode]).toEqual([url, 200]);
      expect(res.body).toContain('<p>page</p>');
      expect(res.headers['content-security-policy']).toBe(UI_CSP);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    expect((await app.inject({ url: '/ui' })).headers.location).toBe('/ui/');
  });

  it('serves the bundle with its types, and 404 for any other asset', async () => {
    const app = build(ui);
    const js = await app.inject({ url: '/ui/assets/app.js' });
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await app.inject({ url: '/ui/assets/app.css' })).headers['content-type']).toBe(
      'text/css; charset=utf-8',
    );
    expect((await app.inject({ url: '/ui/assets/..%2Findex.html' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/ui/assets/other.js' })).statusCode).toBe(404);
  });

  it('says the page is not built when it is not', async () => {
    const res = await build(undefined).inject({ url: '/ui/' });
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toContain('not built');
  });
});
