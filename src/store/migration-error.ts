/** A migration could not be applied; the message names the cause. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}
