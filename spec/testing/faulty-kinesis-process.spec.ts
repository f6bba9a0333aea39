import { createKinesisClient } from '../../lib/producer/create-kinesis-client';
import { localCredentials } from '../../lib/testing/embedded-kinesis';
import { startFaultyKinesisProcess } from '../../lib/testing/faulty-kinesis-process';
import { encodeAggregated } from '../../lib/codec/aggregation';
import { testingEntries, testingPut } from '../helpers/testing-records';

describe('startFaultyKinesisProcess', () => {
  it('runs the stub in a child process that counts records and takes behaviour over HTTP', async () => {
    const stub = await startFaultyKinesisProcess({ streams: { bench: 4 } });
    const client = createKinesisClient({ endpoint: stub.endpoint, credentials: localCredentials() });
    try {
      expect(stub.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const blob = encodeAggregated([
        { partitionKey: 'x', data: '1' },
        { partitionKey: 'y', data: '2' },
        { partitionKey: 'z', data: '3' },
      ]);
      const answer = await testingPut(client, 'bench', [...testingEntries(10), { PartitionKey: 'a', Data: blob }]);
      expect(answer.FailedRecordCount).toBe(0);
      expect(await stub.stats()).toEqual({ requests: 1, putRecordsRequests: 1, kinesisRecords: 11, userRecords: 13, failedRecords: 0 });

      await stub.setBehaviour({ throttleRecords: { every: 2 } });
      const throttled = await testingPut(client, 'bench', testingEntries(10));
      expect(throttled.FailedRecordCount).toBe(5);
      expect(await stub.stats()).toMatchObject({ kinesisRecords: 16, userRecords: 18, failedRecords: 5 });
    } finally {
      client.destroy();
      await stub.close();
    }
  });
});
