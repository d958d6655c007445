import type { FastifyInstance } from 'fastify';
import { HttpError } from './error-handler.ts';
import { authErrorResponses } from './schemas.ts';

const envelopeSchema = {
  type: 'object',
  required: ['payloadType', 'payload', 'signatures'],
  properties: {
    payloadType: { type: 'string' },
    payload: { type: 'string' },
    signatures: {
      type: 'array',
      items: { type: 'object', properties: { keyid: { type: 'string' }, sig: { type: 'string' } } },
    },
  },
} as const;

/**
 * GET /api/v1/policy-statement, behind requireBearerToken like every lookup: the signed subject
 * policy statement (a DSSE envelope, docs/keys.md), exactly the bytes signed, for `verify
 * --policy-statement`. 503 before the first one is signed (no key loaded yet).
 */
export function policyStatementRoute(
  app: FastifyInstance,
  deps: { policyStatement?: () => string | undefined },
): void {
  app.get(
    '/policy-statement',
    { schema: { response: { 200: envelopeSchema, ...authErrorResponses } } },
    async (_request, reply) => {
      const envelope = deps.policyStatement?.();
      if (!envelope) throw new HttpError(503, 'no subject policy statement has been signed yet');
      // a string is sent as is (no re-serialisation): the bytes verifiers fetch are the ones signed
      return reply.type('application/json').send(envelope);
    },
  );
}
