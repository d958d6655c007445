import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { keyRoutes } from '../../../src/http/key-routes.ts';
import type { PublicKeyInfo } from '../../../src/signing/index.ts';

const key = (keyId: string, active = true): PublicKeyInfo => ({
  keyId,
  algorithm: 'ecdsa-p256-sha256',
  publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${keyId}\n-----END PUBLIC KEY-----\n`,
  active,
});

function app() {
  const server = Fastify();
  const asked: string[] = [];
  keyRoutes(server, {
    publicKeys: () => [key('platform')],
    tenantKeysOf: async (namespace) => {
      asked.push(namespace);
      return namespace === 'team-a-ci'
        ? { tenant: 'team-a', keys: [key('a-new'), key('a-old', false)] }
        : undefined;
    },
  });
  return { server, asked };
}

describe('GET /api/v1/keys?namespace=', () => {
  it("serves the namespace's tenant keys first (with tenant), then the platform's", async () => {
    const { server } = app();
    const res = await server.inject({ url: '/api/v1/keys?namespace=team-a-ci' });
    expect(res.statusCode).toBe(200);
    expect(
      res
        .json()
        .keys.map((k: { keyId: string; tenant?: string; active: boolean }) => [k.keyId, k.tenant, k.active]),
    ).toEqual([
      ['a-new', 'team-a', true],
      ['a-old', 'team-a', false],
      ['platform', undefined, true],
    ]);
  });

  it('a namespace without a tenant key, or no namespace: the platform keys only', async () => {
    const { server, asked } = app();
    for (const url of ['/api/v1/keys?namespace=other', '/api/v1/keys'])
      expect((await server.inject({ url })).json().keys.map((k: { keyId: string }) => k.keyId)).toEqual([
        'platform',
      ]);
    expect(asked).toEqual(['other']);
  });

  it('refuses a namespace that is not a namespace name (400), before any lookup', async () => {
    const { server, asked } = app();
    for (const ns of ['Team_A', '../x', 'a'.repeat(64)])
      expect(
        (await server.inject({ url: `/api/v1/keys?namespace=${encodeURIComponent(ns)}` })).statusCode,
      ).toBe(400);
    expect(asked).toEqual([]);
  });
});
