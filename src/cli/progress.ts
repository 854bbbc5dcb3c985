import { Presets, SingleBar } from 'cli-progress';

/**
 * Progress of a long step on stderr: a bar with rate and ETA on a terminal; otherwise (a log
 * file, CI) a plain line at every 10 % and at least every `intervalMs`, so logs stay short.
 */

export type Output = NodeJS.WritableStream & { isTTY?: boolean };

export type Progress = {
  /** `value` counts toward `total` (bytes or rows); `rows` is what the rate is measured in. */
  update(value: number, rows: number): void;
  stop(): void;
};

export type ProgressOptions = {
  stream: Output;
  label: string;
  total: number;
  now?: () => number;
  intervalMs?: number;
};

export const rowsPerSecond = (rows: number, elapsedMs: number): number =>
  Math.round(rows / Math.max(elapsedMs / 1000, 0.001));

export function createProgress(options: ProgressOptions): Progress {
  return options.stream.isTTY ? barProgress(options) : lineProgress(options);
}

function barProgress({ stream, label, total, now = Date.now }: ProgressOptions): Progress {
  const startedAt = now();
  const bar = new SingleBar(
    {
      stream,
      format: `${label} [{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}`,
      hideCursor: true,
      barsize: 30,
      etaBuffer: 50,
      fps: 5,
    },
    Presets.shades_classic,
  );
  bar.start(Math.max(total, 1), 0, { rows: 0, rate: 0 });
  let stopped = false;
  return {
    update(value, rows) {
      if (!stopped) bar.update(value, { rows, rate: rowsPerSecond(rows, now() - startedAt) });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

function lineProgress({
  stream,
  label,
  total,
  now = Date.now,
  intervalMs = 5_000,
}: ProgressOptions): Progress {
  const startedAt = now();
  let printedAt = startedAt;
  let nextPercent = 10;
  return {
    update(value, rows) {
      const percent = total > 0 ? Math.min(100, Math.floor((value * 100) / total)) : 100;
      const at = now();
      if (percent < nextPercent && at - printedAt < intervalMs) return;
      stream.write(
        `${label}: ${percent}% (${rows} rows, ${rowsPerSecond(rows, at - startedAt)} rows/s)\n`,
      );
      printedAt = at;
      nextPercent = Math.floor(percent / 10) * 10 + 10;
    },
    stop() {},
  };
}
