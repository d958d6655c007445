import type { FastifyInstance } from 'fastify';
import type { PublicKeyInfo } from '../signing/index.ts';
import { keysResponseSchema } from './schemas.ts';

/** A namespace's tenant keys (`signing.tenant-keys`): the tenant's name and its published keys. */
export type TenantKeysOf = (
  namespace: string,
) => Promise<{ tenant: string; keys: PublicKeyInfo[] } | undefined>;

export interface KeyRouteDeps {
  publicKeys: () => PublicKeyInfo[];
  /** with `?namespace=`: that namespace's tenant keys; default none (the platform keys only) */
  tenantKeysOf?: TenantKeysOf;
}

/**
 * GET /api/v1/keys, anonymous: every published platform key, the active one and retired ones.
 * `?namespace=<ns>`: the keys that verify that namespace's attestations, its tenant's keys first
 * (each with `tenant`), then the platform's; a namespace without a tenant key gets the platform's.
 */
export function keyRoutes(app: FastifyInstance, deps: KeyRouteDeps): void {
  app.get(
    '/api/v1/keys',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' } },
        },
        response: { 200: keysResponseSchema },
      },
    },
    async (request) => {
      const { namespace } = request.query as { namespace?: string };
      const tenant = namespace && deps.tenantKeysOf ? await deps.tenantKeysOf(namespace) : undefined;
      const shown = (k: PublicKeyInfo, owner?: string) => ({
        keyId: k.keyId,
        algorithm: k.algorithm,
        publicKeyPem: k.publicKeyPem,
        active: k.active,
        ...(owner ? { tenant: owner } : {}),
      });
      return {
        keys: [
          ...(tenant ? tenant.keys.map((k) => shown(k, tenant.tenant)) : []),
          ...deps.publicKeys().map((k) => shown(k)),
        ],
      };
    },
  );
}
