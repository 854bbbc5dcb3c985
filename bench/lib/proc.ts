import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Memory and CPU time of a process, read from Linux's /proc. */

export type Memory = { rssMb: number; peakRssMb: number };

const kbField = (status: string, field: string): number => {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`/proc status has no ${field}`);
  return Number(match[1]);
};

/** VmRSS now and VmHWM (the peak resident set since the process started). */
export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssMb: kbField(status, 'VmRSS') / 1024, peakRssMb: kbField(status, 'VmHWM') / 1024 };
}

/** The command line, to prove which program a pid runs. */
export function readCommandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** User + system CPU seconds the process has used, all threads included. */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces and parentheses; the fields after its last ')' do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/** Busy CPU seconds of the whole machine (all cores), from the first line of /proc/stat. */
function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // user nice system idle iowait irq softirq steal …: everything but idle and iowait is busy.
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  const busy = [user, nice, system, irq, softirq, steal].reduce<number>(
    (sum, value) => sum + (value ?? 0),
    0,
  );
  return busy / clockTicks();
}

export type CpuShares<Name extends string> = Record<Name, number> & {
  /** CPU used by every other process on the machine: noise the measurement suffered. */
  other: number;
};

/**
 * Starts a CPU meter over named pids; `stop()` gives each one's use in percent of one core, and
 * what the rest of the machine used meanwhile.
 */
export function cpuMeter<Name extends string>(
  pids: Record<Name, number>,
): { stop(): CpuShares<Name> } {
  const entries = Object.entries(pids) as [Name, number][];
  const started = performance.now();
  const machineBefore = machineBusySeconds();
  // A process that is gone reads as NaN; the caller finds out why from its exit.
  const read = (pid: number) => {
    try {
      return readCpuSeconds(pid);
    } catch {
      return Number.NaN;
    }
  };
  const before = new Map(entries.map(([name, pid]) => [name, read(pid)]));
  return {
    stop() {
      const elapsedS = (performance.now() - started) / 1000;
      const shares = {} as Record<string, number>;
      let ours = 0;
      for (const [name, pid] of entries) {
        const used = read(pid) - (before.get(name) ?? 0);
        if (Number.isFinite(used)) ours += used;
        shares[name] = (used / elapsedS) * 100;
      }
      const machine = machineBusySeconds() - machineBefore;
      shares.other = Math.max(0, ((machine - ours) / elapsedS) * 100);
      return shares as CpuShares<Name>;
    },
  };
}

export type RssSample = { atS: number; rssMb: number };

/**
 * Samples VmRSS every `intervalMs`. VmHWM alone gives the peak; the samples show when memory grew
 * (a backlog, a leak, or just warm-up).
 */
export function sampleRss(pid: number, intervalMs: number) {
  const started = performance.now();
  const samples: RssSample[] = [];
  const take = () => {
    try {
      samples.push({ atS: (performance.now() - started) / 1000, rssMb: readMemory(pid).rssMb });
    } catch {
      // The process is gone; stop() still answers what was collected.
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  timer.unref();
  return {
    samples,
    stop(): RssSample[] {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}
