import type { FastifyInstance } from 'fastify';
import {
  type AttestationReader,
  attestationEntryKeys,
  type CursorSealer,
  type DecisionLog,
  logProofOf,
  type RunScope,
} from '../index/index.ts';
import type { RunKind } from '../tekton/index.ts';
import { accessFor, callerOf } from './auth.ts';
import type { Authorizer } from './authz/authorizer.ts';
import { HttpError } from './error-handler.ts';
import { attestationSchema, authErrorResponses, digestSchema, envelopeSchema, idSchema } from './schemas.ts';
import { type ProducerSource, subjectProducers } from './views/subject-producers.ts';
import { attestationView } from './views/views.ts';

type MayGet = (namespace: string, kind: RunKind) => Promise<boolean>;

/**
 * Attestation lookups (behind requireBearerToken). The caller sees an attestation only when they
 * may `get` runs of its kind in its namespace. Lookups by id answer 404 both for an unknown id and
 * for one the caller may not see, so the answer does not reveal that it exists.
 */
export function attestationRoutes(
  app: FastifyInstance,
  deps: {
    index: AttestationReader &
      Partial<Pick<DecisionLog, 'logSize' | 'logNodes' | 'checkpoints' | 'findLogEntry'>>;
    authorizer: Authorizer;
    cursors: CursorSealer;
    captures?: ProducerSource;
  },
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
      const after = cursor === undefined ? undefined : openCursor(deps.cursors, cursor, digest);
      const scopes = await visibleScopes(deps.index, digest, mayGet);
      const page = await deps.index.findByDigest(digest, { limit, cursor: after, scopes });
      const next = page.next === undefined ? {} : { next: deps.cursors.seal(page.next, digest) };
      return { items: page.items.map((a) => attestationView(a)), ...next };
    },
  );

  const byId = { type: 'object', required: ['id'], properties: { id: idSchema } } as const;

  app.get<{ Params: { id: string } }>(
    '/attestations/:id',
    { schema: { params: byId, response: { 200: attestationSchema, ...authErrorResponses } } },
    async (request) => {
      const a = await visibleAttestation(deps, request.params.id, callerOfMayGet(request, deps));
      const log = await attestationLogProof(deps.index, a.id, a.run.uid);
      return { ...attestationView(a, await subjectProducers(deps.captures, a)), ...(log ? { log } : {}) };
    },
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

/** The decision log entry of an attestation the caller may see, with its inclusion proof. */
async function attestationLogProof(
  index: AttestationReader &
    Partial<Pick<DecisionLog, 'logSize' | 'logNodes' | 'checkpoints' | 'findLogEntry'>>,
  id: string,
  runUid: string,
) {
  if (!index.logSize || !index.logNodes || !index.checkpoints || !index.findLogEntry) return undefined;
  const envelope = await index.getEnvelope(id);
  if (!envelope) return undefined;
  for (const key of attestationEntryKeys(runUid, envelope)) {
    const e = await index.findLogEntry?.(key);
    if (e) return logProofOf(index as Parameters<typeof logProofOf>[0], e, true);
  }
  return undefined;
}

const callerOfMayGet = (request: Parameters<typeof callerOf>[0], deps: { authorizer: Authorizer }): MayGet =>
  accessFor(deps.authorizer, callerOf(request));

async function visibleAttestation(deps: { index: AttestationReader }, id: string, mayGet: MayGet) {
  const a = await deps.index.getAttestation(id);
  if (!a || !(await mayGet(a.run.namespace, a.run.kind))) throw new HttpError(404, `no attestation ${id}`);
  return a;
}

/**
 * The (namespace, kind) pairs attesting `digest` that the caller may see. The index lists only
 * those, so a page, its `next` cursor and whether there is a next page derive from visible rows
 * alone: paging with `limit=1` reveals nothing of attestations the caller may not see. Costs one
 * access review per pair (cached per caller by the Authorizer), not per row.
 */
async function visibleScopes(index: AttestationReader, digest: string, mayGet: MayGet): Promise<RunScope[]> {
  const scopes = await index.digestScopes(digest);
  const allowed = await Promise.all(scopes.map((s) => mayGet(s.namespace, s.kind)));
  return scopes.filter((_, i) => allowed[i]);
}

/** The index cursor inside a client's cursor; 400 for one this server did not seal for `digest`. */
function openCursor(cursors: CursorSealer, cursor: string, digest: string): string {
  const inner = cursors.open(cursor, digest);
  if (inner === undefined)
    throw new HttpError(
      400,
      'cursor was not issued by this server for this digest (or the server restarted since): start from the first page',
    );
  return inner;
}
