import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/process.ts';

/**
 * The README's typed-client snippet, type-checked as a separate project would: chargegate
 * installed as a dependency (a symlink, as `npm install ../chargegate` makes), the README's
 * tsconfig, and the repository's own TypeScript compiler.
 */

const ROOT = new URL('../..', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules/.bin/tsc');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The README's fenced block of `language` that contains `marker`. */
function readmeBlock(language: string, marker: string): string {
  const blocks = [...README.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))];
  const block = blocks.map((match) => match[1] as string).find((text) => text.includes(marker));
  if (!block) throw new Error(`no ${language} block with ${marker} in README.md`);
  return block;
}

function clientProject(files: Record<string, string>): string {
  const dir = tempDir('chargegate-client-');
  mkdirSync(join(dir, 'node_modules/@trpc'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules/chargegate'));
  symlinkSync(join(ROOT, 'node_modules/@trpc/client'), join(dir, 'node_modules/@trpc/client'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'client', private: true, type: 'module' }),
  );
  writeFileSync(join(dir, 'tsconfig.json'), readmeBlock('json', '"allowImportingTsExtensions"'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function typeCheck(dir: string): Promise<{ code: number; output: string }> {
  try {
    await promisify(execFile)(TSC, ['-p', dir], { cwd: dir, timeout: 120_000 });
    return { code: 0, output: '' };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      output: `${failed.stdout ?? ''}${failed.stderr ?? ''}`,
    };
  }
}

const SNIPPET = readmeBlock('ts', "from 'chargegate/router'");

/** A call that does not fit the router, so that the check is seen to fail when it should. */
const WRONG = `import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from 'chargegate/router';

const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: 'http://127.0.0.1:3000/trpc' })] });
const view = await client.chargingSessionRequests.get.query({ requestId: 'x' });
export const attempts: string = view.callback.attempts;
`;

describe('the README typed client, from a separate project', () => {
  // One compiler run for both files (it takes seconds): the snippet must add no error, the
  // wrong call exactly one.
  it('type-checks as written, and a call that does not fit is caught', {
    timeout: 120_000,
  }, async () => {
    const result = await typeCheck(clientProject({ 'client.ts': SNIPPET, 'wrong.ts': WRONG }));
    expect(result.code).not.toBe(0);
    expect(result.output.trim().split('\n')).toEqual([
      "wrong.ts(6,14): error TS2322: Type 'number' is not assignable to type 'string'.",
    ]);
  });
});
