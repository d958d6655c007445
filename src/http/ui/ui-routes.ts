import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from '../error-handler.ts';
import type { UiAssets } from './ui-assets.ts';

/**
 * The page allows its own origin only: no inline script or style, no eval, no frames, no plugins,
 * no other host for anything. Data calls go to /api/v1 on the same origin (connect-src 'self');
 * downloads of the raw envelope are blob: URLs the page makes itself.
 */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-cache',
};

/**
 * GET /ui/… , anonymous: the page's code holds no data (every lookup it makes goes to /api/v1 with
 * the reader's token). /ui/assets/<file> are the bundle; every other /ui/ path answers index.html,
 * so deep links (/ui/attestations/<id>, /ui/runs/<ns>/<kind>/<name>) survive a reload.
 */
export function uiRoutes(app: FastifyInstance, ui: UiAssets | undefined): void {
  const send = (reply: FastifyReply, path: string) => {
    const file = ui?.files.get(path);
    if (!file) throw new HttpError(404, ui ? `no file /ui/${path}` : 'the page is not built (npm run build)');
    return reply.headers(HEADERS).type(file.type).send(file.body);
  };
  app.get('/ui', (_request, reply) => reply.redirect('/ui/', 308));
  app.get<{ Params: { file: string } }>('/ui/assets/:file', (request, reply) =>
    send(reply, `assets/${request.params.file}`),
  );
  app.get('/ui/*', (_request, reply) => send(reply, 'index.html'));
}
