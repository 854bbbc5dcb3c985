import type { z } from 'zod';
import { type DriverImportRecord, driverImportRowSchema } from '../domain/driver-import.ts';

/** Validation of candidate rows and the wording of bad-row reports. */

export type RowCheck = { ok: true; record: DriverImportRecord } | { ok: false; problems: string[] };

/** Messages already name their field; an element of a list also needs its position. */
function issueText(issue: z.core.$ZodIssue): string {
  const [field, index] = issue.path;
  return typeof index === 'number' ? `${String(field)}[${index}]: ${issue.message}` : issue.message;
}

export function checkDriverRow(candidate: unknown): RowCheck {
  const result = driverImportRowSchema.safeParse(candidate);
  return result.success
    ? { ok: true, record: result.data }
    : { ok: false, problems: result.error.issues.map(issueText) };
}

export type BadRow = { line: number; problems: readonly string[] };

export function badRowText({ line, problems }: BadRow): string {
  return `line ${line}: ${problems.join('; ')}`;
}

export const duplicateProblem = (firstLine: number) =>
  `driverId appears again (first on line ${firstLine})`;

/** The report of bad rows: the first `shown` of them, then how many more there were. */
export function badRowsReport(shown: readonly BadRow[], total: number): string[] {
  const lines = shown.map(badRowText);
  if (total > shown.length) {
    const more = total - shown.length;
    lines.push(`… and ${more} more bad row${more === 1 ? '' : 's'}`);
  }
  return lines;
}
