/**
 * Whether an error says the database cannot take work right now rather than that the work is
 * wrong: busy or locked past the timeout, disk full, I/O failing, read-only, the file gone or not
 * a database, the connection closed.
 */
export function isTransientSqliteError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|NOTADB|CORRUPT)/.test(code)
  ) {
    return true;
  }
  return /database connection is not open/.test(error.message);
}
