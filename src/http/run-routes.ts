import type { FastifyInstance } from 'fastify';
import type { AttestationReader } from '../index/index.ts';
import type { RunKind } from '../tekton/index.ts';
import { callerOf } from './auth.ts';
import type { Authorizer } from './authz/authorizer.ts';
import { HttpError } from './error-handler.ts';
import {
  attestationSchema,
  authErrorResponses,
  nameSchema,
  namespaceSchema,
  runStateSchema,
} from './schemas.ts';
import { type ProducerSource, subjectProducers } from './views/subject-producers.ts';
import { attestationView, runStateView } from './views/views.ts';

const KIND_OF: Record<'taskruns' | 'pipelineruns', RunKind> = {
  taskruns: 'TaskRun',
  pipelineruns: 'PipelineRun',
};

/**
 * GET /runs/:namespace/:plural/:name (behind requireBearerToken): a run's attestations, its signing
 * state per uid (a name can be reused by a re-created run) and where each attestation is stored.
 *
 * Access is decided on (namespace, kind) before the index is read, so a caller who may not get
 * runs there gets 403 whether or not the run exists: the answer reveals nothing about the run.
 * A permitted caller gets 404 when the index knows nothing of it.
 */
export function runRoutes(
  app: FastifyInstance,
  deps: { index: AttestationReader; authorizer: Authorizer; captures?: ProducerSource },
): void {
  app.get<{ Params: { namespace: string; plural: 'taskruns' | 'pipelineruns'; name: string } }>(
    '/runs/:namespace/:plural/:name',
    {
      schema: {
        params: {
          type: 'object',
          required: ['namespace', 'plural', 'name'],
          properties: {
            namespace: namespaceSchema,
            plural: { type: 'string', enum: ['taskruns', 'pipelineruns'] },
            name: nameSchema,
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['run', 'states', 'attestations'],
            properties: {
              run: {
                type: 'object',
                properties: {
                  kind: { type: 'string' },
                  namespace: { type: 'string' },
                  name: { type: 'string' },
                },
              },
              states: { type: 'array', items: runStateSchema },
              attestations: { type: 'array', items: attestationSchema },
            },
          },
          ...authErrorResponses,
        },
      },
    },
    async (request) => {
      const { namespace, plural, name } = request.params;
      const run = { kind: KIND_OF[plural], namespace, name };
      const caller = callerOf(request);
      if (!(await deps.authorizer.canGetRuns(caller, namespace, run.kind))) {
        throw new HttpError(403, `${caller.user} may not get ${plural} in namespace ${namespace}`);
      }
      const [states, attestations] = await Promise.all([
        deps.index.findRunRecords(run),
        deps.index.findByRun(run),
      ]);
      if (states.length === 0 && attestations.length === 0) {
        throw new HttpError(404, `no record of ${run.kind} ${namespace}/${name}`);
      }
      const producers = await subjectProducers(deps.captures, { run });
      return {
        run,
        states: states.map(runStateView),
        attestations: attestations.map((a) => attestationView(a, producers)),
      };
    },
  );
}
