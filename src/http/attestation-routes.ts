import type { FastifyInstance } from 'fastify';
import type { AttestationReader, AttestationSummary } from '../index/index.ts';
import type { RunKind } from '../tekton/index.ts';
import { accessFor, callerOf } from './auth.ts';
import type { Authorizer } from './authorizer.ts';
import { HttpError } from './error-handler.ts';
import { attestationSchema, authErrorResponses, digestSchema, envelopeSchema, idSchema } from './schemas.ts';
import { attestationView } from './views.ts';

/** Index pages read per request at most, to fill one page of attestations the caller may see. */
const MAX_BATCHES = 5;

type MayGet = (namespace: string, kind: RunKind) => Promise<boolean>;

/**
 * Attestation lookups (behind requireBearerToken). The caller sees an attestation only when they
 * may `get` runs of its kind in its namespace. Lookups by id answer 404 both for an unknown id and
 * for one the caller may not see, so the answer does not reveal that it exists.
 */
export function attestationRoutes(
  app: FastifyInstance,
  deps: { index: AttestationReader; authorizer: Authorizer },
): void {
  app.get<{ Querystring: { digest: string; limit: number; cursor?: string } }>(
    '/attestations',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['digest'],
          properties: {
            digest: digestSchema,
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            cursor: { type: 'string', maxLength: 512, pattern: '^[A-Za-z0-9_-]+$' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: attestationSchema }, next: { type: 'string' } },
          },
          ...authErrorResponses,
        },
      },
    },
    async (request) => {
      const { digest, limit, cursor } = request.query;
      const mayGet = accessFor(deps.authorizer, callerOf(request));
      const page = await visiblePage(deps.index, digest, limit, cursor, mayGet);
      return { items: page.items.map(attestationView), ...(page.next ? { next: page.next } : {}) };
    },
  );

  const byId = { type: 'object', required: ['id'], properties: { id: idSchema } } as const;

  app.get<{ Params: { id: string } }>(
    '/attestations/:id',
    { schema: { params: byId, response: { 200: attestationSchema, ...authErrorResponses } } },
    async (request) =>
      attestationView(await visibleAttestation(deps, request.params.id, callerOfMayGet(request, deps))),
  );

  app.get<{ Params: { id: string } }>(
    '/attestations/:id/envelope',
    { schema: { params: byId, response: { 200: envelopeSchema, ...authErrorResponses } } },
    async (request, reply) => {
      const { id } = request.params;
      await visibleAttestation(deps, id, callerOfMayGet(request, deps));
      const envelope = await deps.index.getEnvelope(id);
      if (!envelope) throw new HttpError(404, `no attestation ${id}`);
      // sent as a string so the serializer cannot drop or reorder a field of what was signed
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(envelope));
    },
  );
}

const callerOfMayGet = (request: Parameters<typeof callerOf>[0], deps: { authorizer: Authorizer }): MayGet =>
  accessFor(deps.authorizer, callerOf(request));

async function visibleAttestation(deps: { index: AttestationReader }, id: string, mayGet: MayGet) {
  const a = await deps.index.getAttestation(id);
  if (!a || !(await mayGet(a.run.namespace, a.run.kind))) throw new HttpError(404, `no attestation ${id}`);
  return a;
}

/**
 * One page of the attestations of `digest` the caller may see. Filtering happens after the index
 * pages, so to bound work a page may hold fewer than `limit` items (even none) while `next` is
 * still set; clients follow `next` until it is absent.
 */
async function visiblePage(
  index: AttestationReader,
  digest: string,
  limit: number,
  cursor: string | undefined,
  mayGet: MayGet,
) {
  const items: AttestationSummary[] = [];
  let next = cursor;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const page = await index.findByDigest(digest, { limit: limit - items.length, cursor: next });
    for (const a of page.items) if (await mayGet(a.run.namespace, a.run.kind)) items.push(a);
    next = page.next;
    if (!next || items.length >= limit) break;
  }
  return { items, next };
}
