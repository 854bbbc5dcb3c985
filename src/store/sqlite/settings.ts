import { eq } from 'drizzle-orm';
import { generateWebhookSecret } from '../../domain/webhook-secret.ts';
import type { Database } from './database.ts';
import { settings } from './schema.ts';

const WEBHOOK_SECRET = 'webhook_secret';

/** The signing secret kept in the database, created on first use. Never logged. */
export function storedWebhookSecret(db: Database): string {
  return db.transaction(
    (tx) => {
      const existing = tx.select().from(settings).where(eq(settings.key, WEBHOOK_SECRET)).get();
      if (existing) return existing.value;
      const value = generateWebhookSecret();
      tx.insert(settings).values({ key: WEBHOOK_SECRET, value }).run();
      return value;
    },
    { behavior: 'immediate' },
  );
}
