import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUDIENCES, KubeAuthorizer } from '../../../src/http/index.ts';
import { KubeConnection } from '../../../src/kube/index.ts';
import { kubeAccessWithToken } from '../../env/kube.ts';

// The TokenReview plumbing of KubeAuthorizer against a stand-in apiserver that answers TokenReviews
// as a script says (the real apiserver's answers are covered by test/integration/http-auth.test.ts).
// Token `aud:<a>,<b>` is valid for audiences a and b; the answer's status.audiences is the
// intersection with spec.audiences, as kube-apiserver computes it, unless the token is `ignores`.
describe('KubeAuthorizer audiences', () => {
  let server: Server;
  let url: string;
  const asked: { audiences?: string[] }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const spec = (JSON.parse(body) as { spec: { token: string; audiences?: string[] } }).spec;
        asked.push({ audiences: spec.audiences });
        const valid = spec.token.startsWith('aud:') ? spec.token.slice(4).split(',') : [];
        const audiences =
          spec.token === 'ignores' ? [] : (spec.audiences ?? []).filter((a) => valid.includes(a));
        const authenticated = spec.token === 'ignores' || audiences.length > 0;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenReview',
            status: authenticated
              ? { authenticated, audiences, user: { username: 'system:serviceaccount:t:r', groups: ['g'] } }
              : { authenticated: false },
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const authorizer = (audiences?: string[]) =>
    new KubeAuthorizer({
      connection: new KubeConnection({ access: kubeAccessWithToken(url, 'observer') }),
      audiences,
    });

  it('asks for provenance-observer by default and accepts a token made for it', async () => {
    expect(DEFAULT_AUDIENCES).toEqual(['provenance-observer']);
    const caller = await authorizer().authenticate('aud:provenance-observer');
    expect(caller?.user).toBe('system:serviceaccount:t:r');
    expect(asked.at(-1)?.audiences).toEqual(['provenance-observer']);
  });

  it('refuses a token made for the apiserver or another audience', async () => {
    expect(await authorizer().authenticate('aud:https://kubernetes.default.svc')).toBeUndefined();
    expect(await authorizer().authenticate('aud:vault')).toBeUndefined();
  });

  it('refuses an answer that names none of our audiences, even if authenticated', async () => {
    expect(await authorizer().authenticate('ignores')).toBeUndefined();
  });

  it('uses configured audiences, any of them', async () => {
    const two = authorizer(['po-a', 'po-b']);
    expect(await two.authenticate('aud:po-b')).toBeDefined();
    expect(asked.at(-1)?.audiences).toEqual(['po-a', 'po-b']);
    expect(await two.authenticate('aud:provenance-observer')).toBeUndefined();
  });

  it('refuses an empty audience list at construction', () => {
    expect(() => authorizer([])).toThrow(/audiences/);
  });
});
