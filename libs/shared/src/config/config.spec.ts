import { ConfigError, loadConfig, ServiceConfig } from './config.js';

describe('loadConfig', () => {
  it('reads the environment with its defaults', () => {
    const config = loadConfig(ServiceConfig, { GEOJOBS_AMQP_URL: 'amqp://u:p@127.0.0.1:5672', GEOJOBS_RETRY_DELAYS_MS: '10, 20' });
    expect(config.GEOJOBS_AMQP_URL).toEqual(['amqp://u:p@127.0.0.1:5672']);
    expect(config.GEOJOBS_RETRY_DELAYS_MS).toEqual([10, 20]);
    expect(config.GEOJOBS_DELIVERY_LIMIT).toBe(10);
    expect(config.GEOJOBS_LOG_LEVEL).toBe('info');
  });

  it('names every bad variable, hiding the values of secrets', () => {
    const read = () => loadConfig(ServiceConfig, { GEOJOBS_AMQP_URL: 'http://user:hunter2@host', GEOJOBS_MAX_ATTEMPTS: '0', GEOJOBS_LOG_LEVEL: 'loud' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/GEOJOBS_AMQP_URL \(value hidden\): must be an amqp/);
    expect(read).toThrow(/GEOJOBS_MAX_ATTEMPTS \(got 0\): GEOJOBS_MAX_ATTEMPTS must not be less than 1/);
    expect(read).toThrow(/GEOJOBS_LOG_LEVEL \(got "loud"\)/);
    expect(read).not.toThrow(/hunter2/);
  });

  it('says a required variable is not set', () => {
    expect(() => loadConfig(ServiceConfig, {})).toThrow(/GEOJOBS_AMQP_URL \(not set\)/);
  });

  it('asks for a bucket, and for both S3 keys or neither, when storage is S3', () => {
    const base = { GEOJOBS_AMQP_URL: 'amqp://u:p@127.0.0.1:5672', GEOJOBS_STORAGE: 's3' };
    expect(() => loadConfig(ServiceConfig, base)).toThrow(/GEOJOBS_S3_BUCKET \(not set\)/);
    const half = () => loadConfig(ServiceConfig, { ...base, GEOJOBS_S3_BUCKET: 'geojobs', GEOJOBS_S3_ACCESS_KEY_ID: 'id' });
    expect(half).toThrow(/GEOJOBS_S3_SECRET_ACCESS_KEY \(not set\): must be set together with GEOJOBS_S3_ACCESS_KEY_ID/);
    const config = loadConfig(ServiceConfig, { ...base, GEOJOBS_S3_BUCKET: 'geojobs' });
    expect(config).toMatchObject({ GEOJOBS_S3_REGION: 'us-east-1', GEOJOBS_S3_FORCE_PATH_STYLE: 'true' });
    expect(config.GEOJOBS_S3_ACCESS_KEY_ID).toBeUndefined();
  });
});
