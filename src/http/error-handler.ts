import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ObserverError } from '../errors.ts';

/** An answer a handler chooses on purpose (401, 403, 404), with a message safe to show. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly headers: Record<string, string>;

  constructor(statusCode: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

export const unauthorized = (message: string) =>
  new HttpError(401, message, { 'www-authenticate': 'Bearer realm="provenance-observer"' });

/** Sends `{ statusCode, error, message }`, the one error body of the API. */
export function sendError(reply: FastifyReply, statusCode: number, message: string): FastifyReply {
  return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message });
}

/**
 * One error handler for the whole app. Client errors keep their reason (schema validation says
 * which field and rule); server errors are logged in full and answered without detail, so no
 * path, SQL or apiserver message leaks. An apiserver that cannot answer access reviews is a 503
 * with Retry-After: the request is refused, never let through.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'no such route'));

  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    if (err instanceof HttpError) {
      reply.headers(err.headers);
      return sendError(reply, err.statusCode, err.message);
    }
    if ('validation' in err && err.validation) return sendError(reply, 400, err.message);
    if (err instanceof ObserverError) {
      if (err.code === 'input_invalid') return sendError(reply, 400, err.message);
      if (err.code === 'not_found') return sendError(reply, 404, err.message);
      if (err.code === 'kube' && err.retryable) {
        request.log.warn({ err }, 'access review unavailable');
        reply.header('retry-after', '1');
        return sendError(reply, 503, 'access reviews are unavailable; retry later');
      }
    }
    const status = (err as FastifyError).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500)
      return sendError(reply, status, err.message);
    request.log.error({ err }, 'request failed');
    return sendError(reply, 500, 'internal error');
  });
}
