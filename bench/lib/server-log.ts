import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** What chargegate logged above `info` during the bench: the evidence behind any FAIL. */

export type LogScan = {
  bytes: number;
  lines: number;
  /** Lines at warn or above, by level name and message. */
  problems: { level: string; msg: string; count: number; first: string }[];
  /** Lines that are not pino JSON (a crash trace on stderr, for instance). */
  unstructured: { count: number; first: string[] };
};

const LEVELS: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

export async function scanLog(path: string): Promise<LogScan> {
  const problems = new Map<string, LogScan['problems'][number]>();
  const unstructured: LogScan['unstructured'] = { count: 0, first: [] };
  let lines = 0;
  const input = createInterface({
    input: createReadStream(path),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of input) {
    if (line === '') continue;
    lines++;
    // Most lines are info; their level is in the first bytes, so they are never parsed.
    if (line.startsWith('{"level":30,') || line.startsWith('{"level":20,')) continue;
    let entry: { level?: unknown; msg?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      unstructured.count++;
      if (unstructured.first.length < 10) unstructured.first.push(line.slice(0, 300));
      continue;
    }
    const level = typeof entry.level === 'number' ? LEVELS[entry.level] : undefined;
    if (!level) continue;
    const msg = String(entry.msg ?? '');
    const key = `${level}\u0000${msg}`;
    const seen = problems.get(key);
    if (seen) seen.count++;
    else problems.set(key, { level, msg, count: 1, first: line.slice(0, 1000) });
  }
  return {
    bytes: statSync(path).size,
    lines,
    problems: [...problems.values()].sort((a, b) => b.count - a.count),
    unstructured,
  };
}
