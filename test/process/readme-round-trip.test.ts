import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type RunningService,
  type Spawned,
  spawnCollecting,
  startService,
  tempDir,
} from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The README's round trip, run as pasted: the server of terminal 1, the receiver of terminal 2
 * with the secret `chargegate secret show` prints, the curl commands of terminal 3. Only the
 * ports differ (any free ones instead of 3000 and 4000).
 */

const ROOT = new URL('../..', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function shBlocks(): string[] {
  return [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

const block = (marker: string) => {
  const found = shBlocks().find((text) => text.includes(marker));
  if (!found) throw new Error(`no sh block with ${marker} in README.md`);
  return found;
};

/** `export NAME=value` lines of a block. */
const exported = (text: string) =>
  Object.fromEntries([...text.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));

let service: RunningService | undefined;
let receiver: Spawned | undefined;
afterEach(async () => {
  await service?.kill9();
  service = undefined;
  receiver?.child.kill('SIGKILL');
  receiver = undefined;
});

describe('the README round trip', () => {
  it('delivers an allowed decision that the example receiver verifies', {
    timeout: 60_000,
  }, async () => {
    const serverBlock = block('npm start\n');
    const { ADMIN_TOKEN } = exported(serverBlock);
    expect(ADMIN_TOKEN?.length).toBeGreaterThanOrEqual(16);
    expect(serverBlock).toContain('CALLBACK_ALLOWED_CIDRS=127.0.0.0/8,::1/128 npm start');
    const env = {
      DATABASE_PATH: join(tempDir(), 'chargegate.db'),
      ADMIN_TOKEN: ADMIN_TOKEN as string,
      CALLBACK_ALLOWED_CIDRS: '127.0.0.0/8,::1/128',
    };
    service = await startService(env);

    const receiverBlock = block('examples/receiver.mjs');
    expect(receiverBlock).toContain(
      'export CHARGEGATE_SECRET="$(node bin/chargegate.js secret show)"',
    );
    const secret = await promisify(execFile)(
      process.execPath,
      ['bin/chargegate.js', 'secret', 'show'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, DATABASE_PATH: env.DATABASE_PATH, LOG_LEVEL: 'warn' },
      },
    );
    receiver = spawnCollecting('node', ['examples/receiver.mjs'], {
      PATH: process.env.PATH,
      CHARGEGATE_SECRET: secret.stdout.trim(),
      RECEIVER_PORT: '0',
    });
    const receiverUrl = await waitFor(
      () =>
        /receiving callbacks on (http:\/\/127\.0\.0\.1:\d+)\//.exec(receiver?.output() ?? '')?.[1],
      { what: 'the receiver to listen' },
    );

    const curls = block('"callbackUrl":"http://127.0.0.1:4000/decisions"')
      .replaceAll('http://127.0.0.1:3000', service.url)
      .replaceAll('http://127.0.0.1:4000', receiverUrl);
    const { stdout } = await promisify(execFile)('bash', ['-e', '-c', curls], {
      cwd: ROOT,
      env: { PATH: process.env.PATH },
    });
    const requestId = /"requestId":"([0-9a-f-]{36})"/.exec(stdout)?.[1];
    expect(requestId).toBeDefined();

    await waitFor(() => receiver?.output().includes(`${requestId} allowed\n`), {
      timeoutMs: 15_000,
      what: 'the receiver to verify the callback',
    });
  });

  it('shows examples/receiver.mjs as it is', () => {
    const receiverFile = readFileSync(join(ROOT, 'examples/receiver.mjs'), 'utf8');
    expect(README).toContain(`\`\`\`js\n${receiverFile}\`\`\``);
  });
});
