import type { FastifyInstance } from 'fastify';
import type { PublicKeyInfo } from '../signing/index.ts';
import { keysResponseSchema } from './schemas.ts';

/** GET /api/v1/keys, anonymous: every published public key, the active one and retired ones. */
export function keyRoutes(app: FastifyInstance, deps: { publicKeys: () => PublicKeyInfo[] }): void {
  app.get('/api/v1/keys', { schema: { response: { 200: keysResponseSchema } } }, async () => ({
    keys: deps.publicKeys().map((k) => ({
      keyId: k.keyId,
      algorithm: k.algorithm,
      publicKeyPem: k.publicKeyPem,
      active: k.active,
    })),
  }));
}
