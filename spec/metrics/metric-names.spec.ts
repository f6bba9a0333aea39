import { METRICS, METRIC_NAMES, isMetricKept, isMetricName } from '../../lib/metrics/metric-names';
import type { MetricName } from '../../lib/metrics/metric-names';

describe('KPL metric table (kpl.md §9)', () => {
  it('lists the fifteen KPL metrics with the level and unit kpl.md §9 gives', () => {
    const table = Object.fromEntries(METRIC_NAMES.map((n) => [n, `${METRICS[n].level}/${METRICS[n].unit}`]));
    expect(table).toEqual({
      UserRecordsReceived: 'detailed/Count',
      UserRecordsPending: 'detailed/Count',
      UserRecordsPut: 'summary/Count',
      UserRecordsDataPut: 'detailed/Bytes',
      UserRecordExpired: 'summary/Count',
      KinesisRecordsPut: 'summary/Count',
      KinesisRecordsDataPut: 'detailed/Bytes',
      ErrorsByCode: 'summary/Count',
      AllErrors: 'summary/Count',
      RetriesPerRecord: 'detailed/Count',
      BufferingTime: 'summary/Milliseconds',
      RequestTime: 'detailed/Milliseconds',
      UserRecordsPerKinesisRecord: 'detailed/Count',
      KinesisRecordsPerPutRecordsRequest: 'detailed/Count',
      UserRecordsPerPutRecordsRequest: 'detailed/Count',
    });
  });

  it('names each row after its key', () => {
    for (const name of METRIC_NAMES) expect(METRICS[name].name).toBe(name);
  });

  it('keeps the Javadoc summary set plus UserRecordExpired at level summary', () => {
    const summary = METRIC_NAMES.filter((n) => isMetricKept(n, 'summary'));
    expect(summary.sort()).toEqual(
      ['AllErrors', 'BufferingTime', 'ErrorsByCode', 'KinesisRecordsPut', 'UserRecordExpired', 'UserRecordsPut'].sort(),
    );
  });

  it('keeps every metric at level detailed and none at level none', () => {
    expect(METRIC_NAMES.every((n) => isMetricKept(n, 'detailed'))).toBe(true);
    expect(METRIC_NAMES.some((n) => isMetricKept(n, 'none'))).toBe(false);
  });

  it("recognises KPL names and rejects aiokpl's ExpiredRecords", () => {
    expect(isMetricName('UserRecordsPut')).toBe(true);
    expect(isMetricName('ExpiredRecords')).toBe(false);
    expect(isMetricName('toString')).toBe(false);
  });

  it('rejects names outside the table at compile time', () => {
    // @ts-expect-error ExpiredRecords is aiokpl's name, not a KPL metric
    const bad: MetricName = 'ExpiredRecords';
    expect(bad).toBe('ExpiredRecords');
  });
});
