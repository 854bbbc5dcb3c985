import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { z } from 'zod';
import { type Decision, undecided } from '../../domain/decision.ts';
import type { RemoteAuthorizer, RemoteAuthorizerOptions } from './authorizer.ts';
import { type Answer, decideRemotely, type Verdict } from './remote-call.ts';

/**
 * OCPI 2.2.1 real-time authorization (Tokens module, eMSP interface):
 * `POST {tokens endpoint}/{token_uid}/authorize?type={TokenType}` with a `LocationReferences`
 * body, answered by the OCPI envelope around an `AuthorizationInfo`.
 */

/** The longest OCPI token uid (`CiString(36)`): a longer driver id cannot be one. */
export const OCPI_TOKEN_UID_MAX_LENGTH = 36;

/** OCPI `CiString(n)`: printable ASCII, at most n characters. */
const ciString = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[\x20-\x7e]*$/);

/** Optional OCPI fields: some parties send null instead of leaving the field out. */
const absentAsUndefined = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((value) => value ?? undefined);

export const OCPI_ALLOWED_TYPES = [
  'ALLOWED',
  'BLOCKED',
  'EXPIRED',
  'NO_CREDIT',
  'NOT_ALLOWED',
] as const;

const locationReferencesSchema = z.object({
  location_id: ciString(36),
  evse_uids: absentAsUndefined(z.array(ciString(36))),
});

/**
 * `AuthorizationInfo`. Of the Token only what identifies it is checked: chargegate uses none of
 * its other fields, and an eMSP's slip in one of them should not stop every driver charging.
 */
export const authorizationInfoSchema = z.object({
  allowed: z.enum(OCPI_ALLOWED_TYPES),
  token: z.looseObject({ uid: ciString(36), type: z.string() }),
  location: absentAsUndefined(locationReferencesSchema),
  authorization_reference: absentAsUndefined(ciString(36)),
  info: absentAsUndefined(z.object({ language: z.string(), text: z.string() })),
});

/** The OCPI response envelope. */
export const envelopeSchema = z.object({
  data: z.unknown().optional(),
  status_code: z.number().int(),
  status_message: absentAsUndefined(z.string()),
  timestamp: z.string().min(1),
});

export const OCPI_SUCCESS = 1000;
export const OCPI_UNKNOWN_TOKEN = 2004;

const UNKNOWN_TOKEN: Decision = {
  status: 'invalid',
  source: 'authorizer',
  reason: 'unknown_token',
};
const unknownToken: Verdict = { kind: 'decided', decision: UNKNOWN_TOKEN };

/**
 * What an eMSP's answer means. HTTP 5xx and OCPI 3xxx (server errors) are retried; HTTP 404 and
 * OCPI 2004 mean the token is unknown; only HTTP 200 with 1000 and an AuthorizationInfo decides
 * on the token; anything else is a bad answer.
 */
export function ocpiVerdict({ statusCode, body }: Answer): Verdict {
  if (statusCode >= 500) return { kind: 'retry', outcome: '5xx' };
  if (statusCode === 404) return unknownToken;
  const bad = (detail: string): Verdict => ({
    kind: 'decided',
    decision: undecided('bad_answer'),
    detail,
  });
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return bad(`HTTP ${statusCode}, the body is not JSON`);
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) return bad(`HTTP ${statusCode}, the body is not an OCPI response`);
  const code = envelope.data.status_code;
  if (code === OCPI_UNKNOWN_TOKEN) return unknownToken;
  if (code >= 3000 && code < 4000) return { kind: 'retry', outcome: 'status_3xxx' };
  if (statusCode !== 200 || code !== OCPI_SUCCESS) {
    return bad(`HTTP ${statusCode}, status_code ${code}`);
  }
  const info = authorizationInfoSchema.safeParse(envelope.data.data);
  if (!info.success) return bad('data is not an AuthorizationInfo');
  return { kind: 'decided', decision: decisionOf(info.data) };
}

function decisionOf(info: z.infer<typeof authorizationInfoSchema>): Decision {
  return {
    status: info.allowed === 'ALLOWED' ? 'allowed' : 'not_allowed',
    source: 'authorizer',
    reason: info.allowed,
    ...(info.authorization_reference !== undefined && {
      authorizationReference: info.authorization_reference,
    }),
  };
}

/** OCPI 2.2's `Authorization` header: the credentials token, base64 of its UTF-8 bytes. */
export const ocpiAuthorization = (token: string) =>
  `Token ${Buffer.from(token, 'utf8').toString('base64')}`;

export function createOcpiAuthorizer({
  url,
  timeoutMs,
  dispatcher,
  token,
  tokenType = 'RFID',
  observe,
  log,
}: RemoteAuthorizerOptions): RemoteAuthorizer {
  if (!token) throw new Error('the OCPI authorizer needs a credentials token');
  const authorization = ocpiAuthorization(token);
  const endpoint = url.replace(/\/+$/, '');

  return {
    kind: 'remote',
    async decide({ requestId, stationId, driverId }) {
      if (driverId.length > OCPI_TOKEN_UID_MAX_LENGTH) return UNKNOWN_TOKEN;
      const target = `${endpoint}/${encodeURIComponent(driverId)}/authorize?type=${tokenType}`;
      const body = JSON.stringify({ location_id: stationId });
      return decideRemotely({
        timeoutMs,
        observe,
        log,
        logContext: { requestId },
        verdictOf: ocpiVerdict,
        async send(signal) {
          const response = await request(target, {
            method: 'POST',
            dispatcher,
            headers: {
              authorization,
              'content-type': 'application/json',
              'user-agent': 'chargegate',
              'x-request-id': randomUUID(),
              'x-correlation-id': requestId,
            },
            body,
            signal,
          });
          return { statusCode: response.statusCode, body: await response.body.text() };
        },
      });
    },
  };
}
