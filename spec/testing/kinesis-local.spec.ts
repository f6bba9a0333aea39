import { startKinesisLocal } from '../../lib/testing/kinesis-local';
import { testingEntries, testingPut } from '../helpers/testing-records';

describe('startKinesisLocal', () => {
  it('runs kinesis-local as a child process that reshards with UpdateShardCount 4 → 8', async () => {
    const kinesis = await startKinesisLocal();
    try {
      expect(kinesis.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await kinesis.createStream('local-reshard', 4);
      const put = await testingPut(kinesis.client, 'local-reshard', testingEntries(10));
      expect(put.FailedRecordCount).toBe(0);

      await kinesis.updateShardCount('local-reshard', 8);

      const shards = await kinesis.listShards('local-reshard');
      const open = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
      const closed = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber !== undefined);
      expect(open).toHaveLength(8);
      expect(closed).toHaveLength(4);
      for (const child of open) expect(closed.map((s) => s.ShardId)).toContain(child.ParentShardId);
      const total = (await kinesis.readAll('local-reshard')).reduce((n, s) => n + s.records.length, 0);
      expect(total).toBe(10);
    } finally {
      await kinesis.close();
    }
  });
});
