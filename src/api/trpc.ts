import { createHash, timingSafeEqual } from 'node:crypto';
import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { DomainError } from '../domain/errors.ts';
import { StoreUnavailableError } from '../store/errors.ts';
import type { Context } from './context.ts';
import { errorBody, toTRPCError } from './errors.ts';

const t = initTRPC
  .context<Context>()
  .meta<OpenApiMeta>()
  .create({
    // Stacks never leave the server, whatever NODE_ENV says.
    isDev: false,
    errorFormatter({ shape, error }) {
      const body = errorBody(error);
      return {
        ...shape,
        message: body.message,
        data: { ...shape.data, issues: body.issues },
      };
    },
  });

export const router = t.router;

/** Seconds a client should wait before trying again while the database is unavailable. */
export const RETRY_AFTER_SECONDS = 2;

/**
 * Domain errors thrown by a resolver become their tRPC error here, for both doors; so does a
 * database that cannot take work now: 503 with Retry-After, never an acknowledgement.
 */
const mapDomainErrors = t.middleware(async ({ ctx, next }) => {
  const result = await next();
  if (result.ok) return result;
  const { cause } = result.error;
  if (cause instanceof DomainError) throw toTRPCError(cause);
  if (cause instanceof StoreUnavailableError) {
    ctx.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
    throw new TRPCError({
      code: 'SERVICE_UNAVAILABLE',
      message: 'the database is unavailable; try again shortly',
      cause,
    });
  }
  return result;
});

export const publicProcedure = t.procedure.use(mapDomainErrors);

const digest = (text: string) => createHash('sha256').update(text).digest();

function isAdmin(authorization: string | undefined, adminToken: string | undefined): boolean {
  if (adminToken === undefined || authorization === undefined) return false;
  const match = /^Bearer (.+)$/i.exec(authorization);
  if (!match) return false;
  // Equal-length digests keep the comparison constant-time whatever the lengths.
  return timingSafeEqual(digest(match[1] as string), digest(adminToken));
}

/** Procedures for operators: `Authorization: Bearer $ADMIN_TOKEN`, else 401. */
export const adminProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!isAdmin(ctx.authorization, ctx.services.adminToken)) {
    throw new TRPCError({
      code: 'UNAUTHORIZED',
      message:
        ctx.services.adminToken === undefined
          ? 'admin procedures are disabled: the server has no ADMIN_TOKEN'
          : 'send Authorization: Bearer <ADMIN_TOKEN>',
    });
  }
  return next();
});
