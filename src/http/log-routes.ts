import type { FastifyInstance } from 'fastify';
import { consistencyOf, type DecisionLog, type LogCheckpointer, logProofOf } from '../index/index.ts';
import type { RunKind } from '../tekton/index.ts';
import { accessFor, callerOf } from './auth.ts';
import type { Authorizer } from './authz/authorizer.ts';
import { HttpError } from './error-handler.ts';
import { authErrorResponses, logProofSchema } from './schemas.ts';

export interface LogRouteDeps {
  log: Pick<DecisionLog, 'logSize' | 'logNodes' | 'checkpoints' | 'logEntries'>;
  /** signs a checkpoint on demand; absent: POST answers 503 */
  checkpointer?: Pick<LogCheckpointer, 'checkpoint'>;
  authorizer: Authorizer;
}

const checkpointSchema = {
  type: 'object',
  required: ['size', 'note', 'createdAt'],
  properties: { size: { type: 'integer' }, note: { type: 'string' }, createdAt: { type: 'string' } },
} as const;
const size = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

/**
 * The decision log (docs/log.md), behind requireBearerToken like every lookup: checkpoints,
 * consistency proofs (hashes only) and an entry's inclusion proof. An entry's JSON is shown only
 * to a caller who may `get` runs of its kind in its namespace; anyone else gets its leaf hash and
 * proof, which say nothing of the run.
 */
export function logRoutes(app: FastifyInstance, deps: LogRouteDeps): void {
  app.get(
    '/log/checkpoint',
    { schema: { response: { 200: checkpointSchema, ...authErrorResponses } } },
    async () => {
      const [newest] = await deps.log.checkpoints(1);
      if (!newest) throw new HttpError(404, 'no checkpoint has been signed yet');
      return { size: newest.size, note: newest.note, createdAt: newest.createdAt.toISOString() };
    },
  );

  app.post(
    '/log/checkpoint',
    { schema: { response: { 200: checkpointSchema, ...authErrorResponses } } },
    async () => {
      if (!deps.checkpointer) throw new HttpError(503, 'this server does not sign checkpoints');
      const c = await deps.checkpointer.checkpoint();
      return { size: c.size, note: c.note, createdAt: c.createdAt.toISOString() };
    },
  );

  app.get<{ Querystring: { from: number; to: number } }>(
    '/log/consistency',
    {
      schema: {
        querystring: { type: 'object', required: ['from', 'to'], properties: { from: size, to: size } },
        response: {
          200: {
            type: 'object',
            properties: { from: size, to: size, proof: { type: 'array', items: { type: 'string' } } },
          },
          ...authErrorResponses,
        },
      },
    },
    async (request) => {
      const { from, to } = request.query;
      if (from > to || to > (await deps.log.logSize()))
        throw new HttpError(400, `no tree of size ${to} follows ${from}`);
      return { from, to, proof: await consistencyOf(deps.log, from, to) };
    },
  );

  app.get<{ Params: { index: number } }>(
    '/log/entries/:index',
    {
      schema: {
        params: { type: 'object', required: ['index'], properties: { index: size } },
        response: { 200: logProofSchema, ...authErrorResponses },
      },
    },
    async (request) => {
      const [e] = await deps.log.logEntries(request.params.index, request.params.index + 1);
      if (!e) throw new HttpError(404, `no log entry ${request.params.index}`);
      const kind = e.entry ? (JSON.parse(e.entry) as { run: { kind: RunKind } }).run.kind : undefined;
      const may = kind ? await accessFor(deps.authorizer, callerOf(request))(e.namespace, kind) : false;
      return logProofOf(deps.log, e, may);
    },
  );
}
