import { DEFAULT_CONFIG, resolveConfig, ValidationError } from '../lib/config';

describe('resolveConfig', () => {
  it('fills in the KPL defaults when nothing is given', () => {
    expect(resolveConfig({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.aggregationMaxSize).toBe(51200);
    expect(DEFAULT_CONFIG.collectionMaxCount).toBe(500);
    expect(DEFAULT_CONFIG.recordMaxBufferedTimeMs).toBe(100);
    expect(DEFAULT_CONFIG.recordTtlMs).toBe(30000);
    expect(DEFAULT_CONFIG.rateLimit).toBe(150);
  });

  it.each([
    ['aggregationMaxSize', 63],
    ['aggregationMaxSize', 1048577],
    ['aggregationMaxCount', 0],
    ['aggregationMaxCount', 1.5],
    ['collectionMaxCount', 501],
    ['collectionMaxSize', 52223],
    ['recordTtlMs', 99],
    ['recordTtlMs', Number.NaN],
    ['rateLimit', 0],
    ['maxInFlightRequests', 257],
    ['maxOutstandingBytes', 1048575],
    ['requestTimeoutMs', Infinity],
    ['aggregationEnabled', 'yes'],
    ['metricsLevel', 'verbose'],
    ['metricsNamespace', 'AWS/Kinesis'],
  ])('refuses %s = %p with a ValidationError naming the field', (field, value) => {
    let error: unknown;
    try {
      resolveConfig({ [field]: value } as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const ve = error as ValidationError;
    expect(ve.field).toBe(field);
    expect(ve.message).toContain(field);
    expect(ve.message).toContain('allowed');
  });

  it('accepts the ends of each range', () => {
    expect(() => resolveConfig({ aggregationMaxSize: 64, collectionMaxSize: 52224, recordMaxBufferedTimeMs: 0 })).not.toThrow();
    expect(() => resolveConfig({ aggregationMaxSize: 1048576, collectionMaxCount: 500, rateLimit: 10000 })).not.toThrow();
  });
});
