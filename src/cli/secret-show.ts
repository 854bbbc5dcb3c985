import { type CliContext, cliConfig, requireExistingDatabase, withStore } from './open.ts';

/**
 * `chargegate secret show`: the webhook signing secret in force. Only the secret goes to stdout,
 * so that it can be piped; where it comes from goes to stderr.
 */
export async function secretShowCommand(ctx: CliContext): Promise<void> {
  const config = cliConfig(ctx);
  if (config.webhookSecret !== undefined) {
    ctx.stdout.write(`${config.webhookSecret}\n`);
    ctx.stderr.write('from WEBHOOK_SECRET\n');
    return;
  }
  requireExistingDatabase(config);
  let location = '';
  const secret = await withStore(config, ctx, (store) => {
    location = store.location;
    return store.webhookSecret();
  });
  ctx.stdout.write(`${secret}\n`);
  ctx.stderr.write(
    `kept in the database at ${location} (generated on first use; WEBHOOK_SECRET overrides it)\n`,
  );
}
