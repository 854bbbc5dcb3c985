import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { ClientError } from './http-errors.ts';

/**
 * Request bodies are JSON, and JSON is UTF-8. A body is checked before it is decoded: decoding
 * alone would turn each invalid byte into U+FFFD, and a request would be stored with text its
 * sender never sent.
 */

/** The body as text; a body that is not valid UTF-8 is a 400. */
export function bodyText(body: Buffer): string {
  if (!isUtf8(body)) {
    throw new ClientError(400, 'the request body is not valid UTF-8; send JSON encoded as UTF-8');
  }
  return body.toString('utf8');
}

/** Fastify's own JSON parser (prototype poisoning refused), given text checked by `bodyText`. */
export function registerJsonBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = bodyText(body as Buffer);
    } catch (error) {
      done(error as ClientError, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
