import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RunKind } from '../tekton/index.ts';
import type { Authorizer, Caller } from './authz/authorizer.ts';
import { FailedReviewLimit } from './authz/failed-review-limit.ts';
import { HttpError, unauthorized } from './error-handler.ts';

/** Longest bearer token we will send for review (service account JWTs are ~1 KiB). */
const MAX_TOKEN_LENGTH = 8192;
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

const callers = new WeakMap<FastifyRequest, Caller>();

/**
 * Requires a valid bearer token on every route of `scope` (a fastify plugin context). In two
 * steps, so that bad requests stay cheap: a missing or malformed Authorization header is refused
 * on arrival (onRequest); the token is reviewed only after the params and query passed their
 * schemas (preHandler), so a malformed request never costs an apiserver call.
 */
export function requireBearerToken(
  scope: FastifyInstance,
  authorizer: Authorizer,
  limit: FailedReviewLimit = new FailedReviewLimit(),
): void {
  scope.addHook('onRequest', async (request) => {
    if (!bearerToken(request)) throw unauthorized('a bearer token is required');
  });
  scope.addHook('preHandler', async (request) => {
    const token = bearerToken(request);
    if (!token) throw unauthorized('the bearer token is not valid');
    // per source address: random tokens from one client cannot fill the review queue for everyone
    const answer = await limit.run(request.ip, () => authorizer.authenticate(token));
    if ('refused' in answer)
      throw new HttpError(429, 'too many requests with tokens that are not valid; retry later', {
        'retry-after': String(answer.refused),
      });
    if (!answer.value) throw unauthorized('the bearer token is not valid');
    callers.set(request, answer.value);
  });
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header || header.length > MAX_TOKEN_LENGTH + 7) return undefined;
  return BEARER.exec(header)?.[1];
}

/** The authenticated caller of a request that passed requireBearerToken. */
export function callerOf(request: FastifyRequest): Caller {
  const caller = callers.get(request);
  if (!caller) throw new Error('callerOf: route is not behind requireBearerToken');
  return caller;
}

/** Access checks for one request, each (namespace, kind) asked once however many items share it. */
export function accessFor(
  authorizer: Authorizer,
  caller: Caller,
): (namespace: string, kind: RunKind) => Promise<boolean> {
  const asked = new Map<string, Promise<boolean>>();
  return (namespace, kind) => {
    const key = `${kind}/${namespace}`;
    let answer = asked.get(key);
    if (!answer) {
      answer = authorizer.canGetRuns(caller, namespace, kind);
      asked.set(key, answer);
    }
    return answer;
  };
}
