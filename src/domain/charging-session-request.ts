import { z } from 'zod';
import { DECISION_REASONS, DECISION_STATUSES } from './decision.ts';

/**
 * What a charging session request is, as zod schemas. These drive validation, the TypeScript
 * types, the tRPC procedures, the REST paths and the OpenAPI document.
 */

const HEX_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNRESERVED = /^[A-Za-z0-9._~-]*$/;
export const CALLBACK_URL_MAX_LENGTH = 2048;

const requiredString = (field: string) =>
  z.string({
    error: (issue) =>
      issue.input === undefined ? `${field} is required` : `${field} must be a string`,
  });

/** Length checks would otherwise also run on arrays, adding a second issue to a type error. */
const onStrings = { when: (payload: { value: unknown }) => typeof payload.value === 'string' };

/** A UUID in canonical 8-4-4-4-12 hex form, any version, either case. */
export const uuidField = (field: string) =>
  requiredString(field)
    .regex(HEX_UUID, `${field} must be a UUID in the 8-4-4-4-12 hexadecimal form`)
    .meta({ format: 'uuid', example: '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50' });

export const stationIdSchema = uuidField('stationId').meta({
  description: 'The charging station, as a UUID (any version, either case).',
});

export const driverIdSchema = requiredString('driverId')
  .min(20, { message: 'driverId must be at least 20 characters long', ...onStrings })
  .max(80, { message: 'driverId must be at most 80 characters long', ...onStrings })
  .regex(UNRESERVED, "driverId may only contain A-Z, a-z, 0-9, '-', '.', '_' and '~'")
  .meta({
    description: 'The driver: 20 to 80 characters from A-Z a-z 0-9 - . _ ~',
    example: 'DRV-0001-ab.cd_ef~0123',
  });

export const callbackUrlSchema = requiredString('callbackUrl')
  .max(CALLBACK_URL_MAX_LENGTH, {
    message: `callbackUrl must be at most ${CALLBACK_URL_MAX_LENGTH} characters long`,
    ...onStrings,
  })
  .superRefine((text, ctx) => {
    const problem = callbackUrlProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: `callbackUrl ${problem}` });
  })
  .meta({
    description:
      'Where the decision is POSTed: an absolute http or https URL without user name or password, at most 2048 characters.',
    example: 'https://backend.example.com/chargegate/decisions',
  });

/**
 * Made once, here: a regular expression literal inside a function is a new object each time it is
 * evaluated, and these run for every request (`WHITE_SPACE` for each character beyond ASCII).
 */
const HTTP_SCHEME = /^https?:\/\//i;
const NO_HOST = /^https?:\/\/[/\\?#]/i;
const WHITE_SPACE = /\s/;

function hasSpaceOrControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return true;
    // ASCII's white space is all at or below 0x20; beyond ASCII, JavaScript's \s decides.
    if (code > 0x7f && WHITE_SPACE.test(text[i] as string)) return true;
  }
  return false;
}

/** Says what is wrong with a callback URL, or undefined when it is acceptable. */
export function callbackUrlProblem(text: string): string | undefined {
  if (!HTTP_SCHEME.test(text)) {
    return 'must be an absolute URL starting with http:// or https://';
  }
  if (NO_HOST.test(text)) return 'must name a host';
  if (hasSpaceOrControl(text)) return 'must not contain spaces or control characters';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a valid URL';
  }
  if (url.hostname === '') return 'must name a host';
  if (url.username !== '' || url.password !== '') {
    return 'must not contain a user name or password';
  }
  return undefined;
}

export const createRequestInput = z
  .strictObject(
    {
      stationId: stationIdSchema,
      driverId: driverIdSchema,
      callbackUrl: callbackUrlSchema,
    },
    {
      error: (issue) =>
        issue.code === 'invalid_type' ? 'the request body must be a JSON object' : undefined,
    },
  )
  .meta({ description: 'A charging session request.' });

export type CreateRequestInput = z.infer<typeof createRequestInput>;

export const ACKNOWLEDGED = {
  status: 'acknowledged',
  message: 'Charging Session request received',
} as const;

export const acknowledgementSchema = z
  .object({
    status: z.literal(ACKNOWLEDGED.status),
    message: z.literal(ACKNOWLEDGED.message),
    requestId: z.string().meta({ format: 'uuid', description: 'The id of the stored request.' }),
  })
  .meta({ id: 'Acknowledgement' });

export type Acknowledgement = z.infer<typeof acknowledgementSchema>;

export const CALLBACK_STATES = ['pending', 'delivered', 'failed'] as const;
export type CallbackState = (typeof CALLBACK_STATES)[number];

const isoTimestamp = z.string().meta({ format: 'date-time', example: '2026-01-01T12:00:00.000Z' });

export const decisionViewSchema = z
  .object({
    status: z.enum(DECISION_STATUSES),
    reason: z.enum(DECISION_REASONS).meta({
      description:
        'Why: granted, blocked, expired, station_not_granted, unknown_driver (built-in ACL); ALLOWED, BLOCKED, EXPIRED, NO_CREDIT, NOT_ALLOWED, unknown_token (OCPI 2.2.1); authorizer (chargegate protocol); timeout, bad_answer (no valid answer).',
    }),
    decidedAt: isoTimestamp,
    authorizationReference: z.string().optional().meta({
      description: "The eMSP's OCPI authorization_reference; present only when it sent one.",
    }),
  })
  .meta({ id: 'Decision' });

export type DecisionView = z.infer<typeof decisionViewSchema>;

export const requestViewSchema = z
  .object({
    requestId: z.string().meta({ format: 'uuid' }),
    stationId: z.string().meta({ format: 'uuid' }),
    driverId: z.string(),
    callbackUrl: z.string(),
    createdAt: isoTimestamp,
    decision: decisionViewSchema
      .nullable()
      .meta({ description: 'null until the decision is made.' }),
    callback: z.object({
      state: z.enum(CALLBACK_STATES),
      attempts: z.number().int(),
      lastAttemptAt: isoTimestamp.nullable(),
      lastResponseStatus: z.number().int().nullable(),
      lastError: z.string().nullable(),
      nextAttemptAt: isoTimestamp
        .nullable()
        .meta({ description: 'When the next attempt is due; null once delivered or failed.' }),
    }),
  })
  .meta({ id: 'ChargingSessionRequest' });

export type RequestView = z.infer<typeof requestViewSchema>;

export const requestIdInput = z.object({ requestId: uuidField('requestId') });

/**
 * The body POSTed to the callback URL: `reason` always, `authorizationReference` only when the
 * eMSP sent one, so receivers that read only the first fields keep working.
 */
export type CallbackPayload = {
  requestId: string;
  stationId: string;
  driverId: string;
} & DecisionView;
