import { describe, expect, it } from 'vitest';
import { openConnection } from '../../../src/store/sqlite/connection.ts';
import { tempDir } from '../../helpers/process.ts';

describe('a SQLite connection', () => {
  it.each([
    ['a file', () => `${tempDir()}/connection.db`],
    ['in memory', () => ':memory:'],
  ])(
    'on %s: foreign keys, synchronous FULL, and a page cache of 2,000 KiB (better-sqlite3 builds in 16 MB)',
    (_, pathOf) => {
      const client = openConnection({ path: pathOf(), sync: 'full' });
      try {
        expect(client.pragma('cache_size', { simple: true })).toBe(-2000);
        expect(client.pragma('foreign_keys', { simple: true })).toBe(1);
        expect(client.pragma('synchronous', { simple: true })).toBe(2);
      } finally {
        client.close();
      }
    },
  );

  it('a file connection is in WAL mode', () => {
    const client = openConnection({ path: `${tempDir()}/wal.db`, sync: 'normal' });
    try {
      expect(client.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(client.pragma('synchronous', { simple: true })).toBe(1);
    } finally {
      client.close();
    }
  });
});
