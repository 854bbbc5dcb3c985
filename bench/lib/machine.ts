import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import { ROOT } from './spawn-server.ts';

/** What the numbers were measured on: they mean little without it. */

export type MachineInfo = {
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  /** The 1-minute load average before the bench started: other work on the machine skews it. */
  loadAverage1m: number;
  /** The filesystem under the database (tmpfs would make DATABASE_SYNC=full free). */
  databaseFilesystem: string;
  /** The commit measured, and whether src/ differs from it. */
  commit: string;
  srcModified: boolean | null;
};

function filesystemOf(dir: string): string {
  try {
    const path = realpathSync(dir);
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => fields.length > 2);
    let best = { point: '', type: 'unknown', device: '' };
    for (const [device = '', point = '', type = ''] of mounts) {
      const inside = path === point || path.startsWith(point === '/' ? '/' : `${point}/`);
      if (inside && point.length >= best.point.length) best = { point, type, device };
    }
    return `${best.type} (${best.device} on ${best.point})`;
  } catch {
    return 'unknown';
  }
}

function git(args: string[]): { out: string; ok: boolean } {
  try {
    const out = execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      // Read-only: do not let git refresh the index while it looks.
      env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
    });
    return { out: out.trim(), ok: true };
  } catch {
    return { out: '', ok: false };
  }
}

export function machineInfo(databaseDir: string): MachineInfo {
  const cpus = os.cpus();
  const commit = git(['rev-parse', '--short', 'HEAD']);
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: os.totalmem() / 1024 ** 3,
    loadAverage1m: os.loadavg()[0] ?? 0,
    databaseFilesystem: filesystemOf(databaseDir),
    commit: commit.ok ? commit.out : 'unknown',
    srcModified: commit.ok ? !git(['diff', '--quiet', 'HEAD', '--', 'src']).ok : null,
  };
}
