import { run } from './program.ts';

/** The `chargegate` executable: the only CLI code that touches the real process. */
process.exitCode = await run(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  now: Date.now,
});
