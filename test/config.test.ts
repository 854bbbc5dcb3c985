import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databasePath: './data/chargegate.db',
      databaseSync: 'full',
      logLevel: 'info',
      authorizerUrl: undefined,
      authorizerTimeoutMs: 5_000,
      webhookSecret: undefined,
      callbackTimeoutMs: 15_000,
      callbackRetrySchedule: [
        5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
      ],
      callbackAllowedCidrs: [],
      adminToken: undefined,
      metricsToken: undefined,
      requestTimeoutMs: 10_000,
      maxConnections: 800,
      workerConcurrency: 64,
      callbackConcurrencyPerOrigin: 32,
      workerNice: 19,
      retentionDays: 30,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['1', 1],
    ['3', 2],
    ['10', 5],
    ['64', 32],
  ])(
    'caps attempts per origin at half of WORKER_CONCURRENCY=%s by default: %i',
    (concurrency, perOrigin) => {
      expect(loadConfig({ WORKER_CONCURRENCY: concurrency }).callbackConcurrencyPerOrigin).toBe(
        perOrigin,
      );
    },
  );

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_SYNC: '' })).toMatchObject({
      port: 3000,
      databaseSync: 'full',
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      DATABASE_PATH: '/tmp/x.db',
      DATABASE_SYNC: 'normal',
      LOG_LEVEL: 'debug',
      AUTHORIZER_URL: 'https://auth.example.com/decide',
      AUTHORIZER_TIMEOUT_MS: '750',
      WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
      CALLBACK_TIMEOUT_MS: '1000',
      CALLBACK_RETRY_SCHEDULE: '1s,2m',
      CALLBACK_ALLOWED_CIDRS: '127.0.0.0/8,::1/128',
      ADMIN_TOKEN: 'secret-token-0123456789',
      METRICS_TOKEN: 'metrics-token-0123456789',
      REQUEST_TIMEOUT_MS: '2500',
      MAX_CONNECTIONS: '50',
      WORKER_CONCURRENCY: '8',
      CALLBACK_CONCURRENCY_PER_ORIGIN: '8',
      WORKER_NICE: '0',
    });
    expect(config).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      databaseSync: 'normal',
      authorizerUrl: 'https://auth.example.com/decide',
      authorizerTimeoutMs: 750,
      callbackTimeoutMs: 1000,
      callbackRetrySchedule: [1_000, 120_000],
      adminToken: 'secret-token-0123456789',
      metricsToken: 'metrics-token-0123456789',
      requestTimeoutMs: 2500,
      maxConnections: 50,
      workerConcurrency: 8,
      callbackConcurrencyPerOrigin: 8,
      workerNice: 0,
    });
    expect(config.callbackAllowedCidrs).toHaveLength(2);
  });

  it.each([
    [
      'PORT',
      'abc',
      /^invalid configuration: PORT must be a whole number from 0 to 65535 \(got "abc"\)$/,
    ],
    ['PORT', '70000', /PORT must be at most 65535/],
    ['DATABASE_SYNC', 'off', /DATABASE_SYNC must be "full" or "normal"/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of fatal/],
    ['AUTHORIZER_URL', 'not a url', /AUTHORIZER_URL must be an absolute http or https URL/],
    ['AUTHORIZER_TIMEOUT_MS', '0', /AUTHORIZER_TIMEOUT_MS must be at least 1/],
    [
      'CALLBACK_TIMEOUT_MS',
      '120000',
      /WORKER_LEASE_MS \(60000\) must be greater than CALLBACK_TIMEOUT_MS \(120000\)/,
    ],
    ['CALLBACK_RETRY_SCHEDULE', '5s,soon', /CALLBACK_RETRY_SCHEDULE "soon" is not a duration/],
    [
      'CALLBACK_ALLOWED_CIDRS',
      '127.0.0.1',
      /CALLBACK_ALLOWED_CIDRS "127.0.0.1" is not a CIDR range/,
    ],
    ['WORKER_CONCURRENCY', '0', /WORKER_CONCURRENCY must be at least 1/],
    ['WORKER_NICE', '20', /WORKER_NICE must be at most 19/],
    ['WORKER_NICE', '-5', /WORKER_NICE must be a whole number from 0 to 19/],
    ['WEBHOOK_SECRET', 'whsec_c2hvcnQ=', /WEBHOOK_SECRET must encode 24 to 64 bytes/],
    ['REQUEST_TIMEOUT_MS', '0', /REQUEST_TIMEOUT_MS must be at least 100/],
    ['MAX_CONNECTIONS', '0', /MAX_CONNECTIONS must be at least 1/],
    ['MAX_CONNECTIONS', 'lots', /MAX_CONNECTIONS must be a whole number/],
    ['CALLBACK_CONCURRENCY_PER_ORIGIN', '0', /CALLBACK_CONCURRENCY_PER_ORIGIN must be at least 1/],
    [
      'CALLBACK_CONCURRENCY_PER_ORIGIN',
      '65',
      /CALLBACK_CONCURRENCY_PER_ORIGIN \(65\) must be at most WORKER_CONCURRENCY \(64\)/,
    ],
  ])('names %s when it is %j', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('never repeats a secret in its message', () => {
    const secret = 'whsec_dG9vLXNob3J0LXNlY3JldA==';
    expect(() => loadConfig({ WEBHOOK_SECRET: secret })).toThrow(ConfigError);
    try {
      loadConfig({ WEBHOOK_SECRET: secret });
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
      expect((error as Error).message).toContain('WEBHOOK_SECRET');
    }
  });

  it.each(['ADMIN_TOKEN', 'METRICS_TOKEN'])(
    'refuses a %s shorter than 16 characters in one line without its value',
    (name) => {
      const token = 'x'.repeat(15);
      expect(() => loadConfig({ [name]: token })).toThrow(
        new ConfigError(`invalid configuration: ${name} must be at least 16 characters long`),
      );
      expect(loadConfig({ [name]: 'x'.repeat(16) })).toBeDefined();
    },
  );

  it('names every bad variable in one message', () => {
    expect(() => loadConfig({ PORT: 'x', WORKER_CONCURRENCY: 'y' })).toThrow(
      /PORT .*; WORKER_CONCURRENCY /,
    );
  });
});

describe('the authorizer variables', () => {
  const EMSP = 'https://emsp.example.com/ocpi/emsp/2.2.1/tokens';
  const TOKEN = 'ocpi-credentials-token-ⓣ-0123';
  const ocpi = (env: Record<string, string> = {}) => ({
    AUTHORIZER_PROTOCOL: 'ocpi-2.2.1',
    AUTHORIZER_URL: EMSP,
    AUTHORIZER_TOKEN: TOKEN,
    ...env,
  });
  const messageOf = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('the configuration was accepted');
  };

  it('defaults to the chargegate protocol and RFID tokens', () => {
    expect(loadConfig({})).toMatchObject({
      authorizerProtocol: 'chargegate',
      authorizerToken: undefined,
      authorizerTokenType: 'RFID',
    });
  });

  it('reads an OCPI 2.2.1 setup', () => {
    expect(loadConfig(ocpi({ AUTHORIZER_TOKEN_TYPE: 'APP_USER' }))).toMatchObject({
      authorizerProtocol: 'ocpi-2.2.1',
      authorizerUrl: EMSP,
      authorizerToken: TOKEN,
      authorizerTokenType: 'APP_USER',
    });
  });

  it('accepts the Tokens endpoint with a trailing slash, and drops it', () => {
    expect(loadConfig(ocpi({ AUTHORIZER_URL: `${EMSP}/` })).authorizerUrl).toBe(EMSP);
  });

  it.each(['AD_HOC_USER', 'APP_USER', 'OTHER', 'RFID'])('accepts the token type %s', (type) => {
    expect(loadConfig(ocpi({ AUTHORIZER_TOKEN_TYPE: type })).authorizerTokenType).toBe(type);
  });

  it.each([
    [
      'an unknown protocol',
      { AUTHORIZER_PROTOCOL: 'ocpi-2.1.1' },
      /^invalid configuration: AUTHORIZER_PROTOCOL must be one of chargegate, ocpi-2\.2\.1 \(got "ocpi-2\.1\.1"\)$/,
    ],
    [
      'an unknown token type',
      ocpi({ AUTHORIZER_TOKEN_TYPE: 'rfid' }),
      /^invalid configuration: AUTHORIZER_TOKEN_TYPE must be one of AD_HOC_USER, APP_USER, OTHER, RFID \(got "rfid"\)$/,
    ],
    [
      'ocpi-2.2.1 without a token',
      { AUTHORIZER_PROTOCOL: 'ocpi-2.2.1', AUTHORIZER_URL: EMSP },
      /^invalid configuration: AUTHORIZER_PROTOCOL=ocpi-2\.2\.1 needs AUTHORIZER_TOKEN, the OCPI credentials token$/,
    ],
    [
      'ocpi-2.2.1 without a URL',
      { AUTHORIZER_PROTOCOL: 'ocpi-2.2.1', AUTHORIZER_TOKEN: TOKEN },
      /^invalid configuration: AUTHORIZER_PROTOCOL=ocpi-2\.2\.1 needs AUTHORIZER_URL, the eMSP's Tokens endpoint \(ending in \/tokens\)$/,
    ],
    [
      'ocpi-2.2.1 with neither',
      { AUTHORIZER_PROTOCOL: 'ocpi-2.2.1' },
      /needs AUTHORIZER_URL.*; AUTHORIZER_PROTOCOL=ocpi-2\.2\.1 needs AUTHORIZER_TOKEN/,
    ],
    [
      'a URL not ending in /tokens',
      ocpi({ AUTHORIZER_URL: 'https://emsp.example.com/ocpi/emsp/2.2.1/tokens/authorize' }),
      /^invalid configuration: AUTHORIZER_URL must be the eMSP's OCPI Tokens endpoint, ending in \/tokens, without a query \(got "https:\/\/emsp\.example\.com\/ocpi\/emsp\/2\.2\.1\/tokens\/authorize"\)$/,
    ],
    [
      'a URL with a query',
      ocpi({ AUTHORIZER_URL: `${EMSP}?type=RFID` }),
      /AUTHORIZER_URL must be the eMSP's OCPI Tokens endpoint/,
    ],
    [
      'a URL that only looks like it ends in tokens',
      ocpi({ AUTHORIZER_URL: 'https://emsp.example.com/ocpi/mytokens' }),
      /AUTHORIZER_URL must be the eMSP's OCPI Tokens endpoint/,
    ],
    [
      'a URL that is not http',
      ocpi({ AUTHORIZER_URL: 'ftp://emsp.example.com/tokens' }),
      /AUTHORIZER_URL must be an absolute http or https URL/,
    ],
    [
      'a token with the chargegate protocol',
      { AUTHORIZER_URL: 'https://auth.example.com/decide', AUTHORIZER_TOKEN: TOKEN },
      /^invalid configuration: AUTHORIZER_TOKEN is only used with AUTHORIZER_PROTOCOL=ocpi-2\.2\.1$/,
    ],
  ])('stops the start with one clear line on %s', (_name, env, message) => {
    const text = messageOf(env);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it('never repeats the token in a message', () => {
    for (const env of [
      ocpi({ AUTHORIZER_URL: 'https://emsp.example.com/nope' }),
      ocpi({ AUTHORIZER_TOKEN_TYPE: 'bad', AUTHORIZER_TIMEOUT_MS: 'x' }),
      { AUTHORIZER_TOKEN: TOKEN },
    ]) {
      const text = messageOf(env);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(Buffer.from(TOKEN).toString('base64'));
    }
  });
});
