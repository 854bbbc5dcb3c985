import { describe, expect, it } from 'vitest';
import { createRequestInput } from '../../src/domain/charging-session-request.ts';

const valid = {
  stationId: '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50',
  driverId: 'DRV-0001-ab.cd_ef~0123',
  callbackUrl: 'https://backend.example.com/hooks',
};

/** The issues for one field when the rest of the body is valid. */
function issuesFor(field: string, value: unknown) {
  const result = createRequestInput.safeParse({ ...valid, [field]: value });
  return result.success
    ? []
    : result.error.issues.map((issue) => ({ path: issue.path, message: issue.message }));
}

describe('stationId', () => {
  it.each([
    ['lower case v4', '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50'],
    ['upper case', '3F0E9A52-8A8C-4D8E-9F3A-7B1C2D3E4F50'],
    ['mixed case', '3f0E9a52-8A8c-4d8E-9f3A-7b1C2d3E4f50'],
    ['nil UUID', '00000000-0000-0000-0000-000000000000'],
    ['max UUID', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
    ['v1', 'c232ab00-9414-11ec-b3c8-9f6bdeced846'],
    ['v7', '01890a5d-ac96-774b-bcce-b302099a8057'],
    ['version digit 0 and odd variant', '12345678-1234-0234-c234-123456789abc'],
  ])('accepts %s', (_name, value) => {
    expect(issuesFor('stationId', value)).toEqual([]);
  });

  it.each([
    ['no hyphens', '3f0e9a528a8c4d8e9f3a7b1c2d3e4f50'],
    ['braces', '{3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50}'],
    ['urn form', 'urn:uuid:3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50'],
    ['too short', '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f5'],
    ['too long', '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f500'],
    ['non-hex digit', '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f5g'],
    ['hyphens misplaced', '3f0e9a5-28a8c-4d8e-9f3a-7b1c2d3e4f50'],
    ['surrounding space', ' 3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50'],
    ['empty', ''],
  ])('refuses %s, naming the field', (_name, value) => {
    expect(issuesFor('stationId', value)).toEqual([
      {
        path: ['stationId'],
        message: 'stationId must be a UUID in the 8-4-4-4-12 hexadecimal form',
      },
    ]);
  });

  it('refuses a number and a missing value with their own messages', () => {
    expect(issuesFor('stationId', 42)).toEqual([
      { path: ['stationId'], message: 'stationId must be a string' },
    ]);
    expect(issuesFor('stationId', undefined)).toEqual([
      { path: ['stationId'], message: 'stationId is required' },
    ]);
  });
});

describe('driverId', () => {
  it.each([
    ['20 characters', 'a'.repeat(20)],
    ['80 characters', 'Z'.repeat(80)],
    ['every allowed class', 'AZaz09-._~AZaz09-._~'],
  ])('accepts %s', (_name, value) => {
    expect(issuesFor('driverId', value)).toEqual([]);
  });

  it('refuses 19 and 81 characters', () => {
    expect(issuesFor('driverId', 'a'.repeat(19))).toEqual([
      { path: ['driverId'], message: 'driverId must be at least 20 characters long' },
    ]);
    expect(issuesFor('driverId', 'a'.repeat(81))).toEqual([
      { path: ['driverId'], message: 'driverId must be at most 80 characters long' },
    ]);
  });

  it.each([
    ['space', ' '],
    ['slash', '/'],
    ['plus', '+'],
    ['at', '@'],
    ['colon', ':'],
    ['percent', '%'],
    ['quote', '"'],
    ['non-ASCII letter', 'é'],
    ['emoji', '🚗'],
    ['tab', '\t'],
    ['newline', '\n'],
    ['NUL', '\u0000'],
  ])('refuses a %s', (_name, character) => {
    expect(issuesFor('driverId', `DRV-0001-ab.cd_ef~01${character}`)).toEqual([
      {
        path: ['driverId'],
        message: "driverId may only contain A-Z, a-z, 0-9, '-', '.', '_' and '~'",
      },
    ]);
  });

  it('refuses a non-string', () => {
    expect(issuesFor('driverId', ['DRV-0001-ab.cd_ef~0123'])).toEqual([
      { path: ['driverId'], message: 'driverId must be a string' },
    ]);
  });
});

describe('callbackUrl', () => {
  it.each([
    ['https', 'https://example.com/cb'],
    ['http with port and query', 'http://example.com:8080/cb?x=1#frag'],
    ['upper-case scheme', 'HTTPS://example.com/cb'],
    ['IPv6 literal', 'http://[2001:db8::1]/cb'],
    ['exactly 2048 characters', `https://example.com/${'a'.repeat(2048 - 20)}`],
    ['a host beyond ASCII', 'https://bücher.example/cb'],
    ['a path beyond ASCII', 'https://example.com/café/😀'],
  ])('accepts %s', (_name, value) => {
    expect(issuesFor('callbackUrl', value)).toEqual([]);
  });

  it.each([
    ['a relative path', '/callbacks', 'must be an absolute URL starting with http:// or https://'],
    ['ftp', 'ftp://example.com/cb', 'must be an absolute URL starting with http:// or https://'],
    [
      'javascript',
      'javascript:alert(1)',
      'must be an absolute URL starting with http:// or https://',
    ],
    ['no slashes', 'http:example.com', 'must be an absolute URL starting with http:// or https://'],
    ['a user name', 'https://user@example.com/cb', 'must not contain a user name or password'],
    [
      'user and password',
      'https://user:secret@example.com/cb',
      'must not contain a user name or password',
    ],
    ['an empty host', 'http:///cb', 'must name a host'],
    ['a space', 'https://example.com/a b', 'must not contain spaces or control characters'],
    ['a tab', 'https://example.com/a\tb', 'must not contain spaces or control characters'],
    ['a NUL', 'https://example.com/a\u0000b', 'must not contain spaces or control characters'],
    ['a DEL', 'https://example.com/a\u007fb', 'must not contain spaces or control characters'],
    [
      'a no-break space',
      'https://example.com/a\u00a0b',
      'must not contain spaces or control characters',
    ],
    [
      'a line separator',
      'https://example.com/a\u2028b',
      'must not contain spaces or control characters',
    ],
    [
      'an ideographic space',
      'https://example.com/a\u3000b',
      'must not contain spaces or control characters',
    ],
    [
      'a byte order mark',
      'https://example.com/a\ufeffb',
      'must not contain spaces or control characters',
    ],
    ['a bad port', 'https://example.com:99999/cb', 'is not a valid URL'],
  ])('refuses %s', (_name, value, problem) => {
    expect(issuesFor('callbackUrl', value)).toEqual([
      { path: ['callbackUrl'], message: `callbackUrl ${problem}` },
    ]);
  });

  it('refuses 2049 characters', () => {
    const issues = issuesFor('callbackUrl', `https://example.com/${'a'.repeat(2049 - 20)}`);
    expect(issues).toContainEqual({
      path: ['callbackUrl'],
      message: 'callbackUrl must be at most 2048 characters long',
    });
  });
});

describe('the request body', () => {
  it('names every offending field at once', () => {
    const result = createRequestInput.safeParse({
      stationId: 'x',
      driverId: 'short',
      callbackUrl: 'ftp://x',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path[0])).toEqual([
      'stationId',
      'driverId',
      'callbackUrl',
    ]);
  });

  it.each([
    ['an array', [valid]],
    ['a string', 'hello'],
    ['a number', 7],
    ['null', null],
  ])('refuses %s', (_name, body) => {
    const result = createRequestInput.safeParse(body);
    expect(result.error?.issues[0]?.message).toBe('the request body must be a JSON object');
  });

  it('refuses unknown fields, naming them', () => {
    const result = createRequestInput.safeParse({ ...valid, callbackURL: 'https://x.example' });
    expect(result.error?.issues[0]?.message).toContain('callbackURL');
  });
});
