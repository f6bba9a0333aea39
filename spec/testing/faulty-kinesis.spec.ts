import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { encodeAggregated } from '../../lib/codec/aggregation';
import { MAX_HASH_KEY, partitionKeyToHashKey } from '../../lib/codec/hash';
import { startFaultyKinesis, type FaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { testingEntries, testingPut } from '../helpers/testing-records';

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

async function failure(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

function expectedShard(stub: FaultyKinesis, stream: string, key: bigint): string {
  return stub.shards(stream).find((s) => s.startingHashKey <= key && key <= s.endingHashKey)!.shardId;
}

describe('startFaultyKinesis', () => {
  let stub: FaultyKinesis;
  beforeEach(async () => {
    stub = await startFaultyKinesis({ streams: { s: 4, ten: 10 } });
  });
  afterEach(() => stub.close());

  describe('well-behaved', () => {
    it('lists even shard ranges that cover the whole key space', async () => {
      const answer = await stub.client.send(new ListShardsCommand({ StreamName: 's' }));
      const step = (MAX_HASH_KEY + 1n) / 4n;
      expect(answer.Shards!.map((s) => [s.ShardId, s.HashKeyRange!.StartingHashKey, s.HashKeyRange!.EndingHashKey])).toEqual([
        ['shardId-000000000000', '0', (step - 1n).toString()],
        ['shardId-000000000001', step.toString(), (2n * step - 1n).toString()],
        ['shardId-000000000002', (2n * step).toString(), (3n * step - 1n).toString()],
        ['shardId-000000000003', (3n * step).toString(), MAX_HASH_KEY.toString()],
      ]);
      expect(answer.NextToken).toBeUndefined();
    });

    it('pages ListShards with MaxResults and NextToken', async () => {
      const ids: string[] = [];
      let page = await stub.client.send(new ListShardsCommand({ StreamName: 'ten', MaxResults: 3 }));
      ids.push(...page.Shards!.map((s) => s.ShardId!));
      let pages = 1;
      while (page.NextToken !== undefined) {
        page = await stub.client.send(new ListShardsCommand({ NextToken: page.NextToken, MaxResults: 3 }));
        ids.push(...page.Shards!.map((s) => s.ShardId!));
        pages++;
      }
      expect(pages).toBe(4);
      expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => `shardId-${String(i).padStart(12, '0')}`));
    });

    it('answers DescribeStreamSummary with an ACTIVE stream', async () => {
      const answer = await stub.client.send(new DescribeStreamSummaryCommand({ StreamName: 'ten' }));
      expect(answer.StreamDescriptionSummary).toMatchObject({ StreamName: 'ten', StreamStatus: 'ACTIVE', OpenShardCount: 10 });
    });

    it('answers an unknown stream with ResourceNotFoundException', async () => {
      const listErr = await failure(stub.client.send(new ListShardsCommand({ StreamName: 'nope' })));
      expect(listErr.name).toBe('ResourceNotFoundException');
      const putErr = await failure(testingPut(stub.client, 'nope', testingEntries(1)));
      expect(putErr.name).toBe('ResourceNotFoundException');
      expect(putErr.$metadata?.httpStatusCode).toBe(400);
      expect(stub.accepted()).toEqual([]);
    });

    it('routes each record by md5 of its partition key, or its ExplicitHashKey, and stores it', async () => {
      const entries = testingEntries(100);
      entries.push({ PartitionKey: 'pk-0', ExplicitHashKey: MAX_HASH_KEY.toString(), Data: new TextEncoder().encode('last') });
      const answer = await testingPut(stub.client, 's', entries);
      expect(answer.FailedRecordCount).toBe(0);
      const expected = entries.map((e) =>
        expectedShard(stub, 's', e.ExplicitHashKey !== undefined ? BigInt(e.ExplicitHashKey) : partitionKeyToHashKey(e.PartitionKey!)),
      );
      expect(answer.Records!.map((r) => r.ShardId)).toEqual(expected);
      expect(answer.Records![100].ShardId).toBe('shardId-000000000003');
      expect(new Set(expected).size).toBe(4);

      const accepted = stub.accepted('s');
      expect(accepted.map((r) => [r.partitionKey, text(r.data), r.shardId, r.sequenceNumber])).toEqual(
        entries.map((e, i) => [e.PartitionKey, text(e.Data), expected[i], answer.Records![i].SequenceNumber]),
      );
      expect(accepted[100].explicitHashKey).toBe(MAX_HASH_KEY.toString());
      expect(accepted[0].subSequenceNumber).toBeUndefined();
    });

    it('routes explicit hash keys at shard boundaries to the shard whose range holds them', async () => {
      const keys = stub.shards('ten').flatMap((s) => [s.startingHashKey, s.endingHashKey]);
      const entries = keys.map((k) => ({ PartitionKey: 'b', ExplicitHashKey: k.toString(), Data: new Uint8Array([1]) }));
      const answer = await testingPut(stub.client, 'ten', entries);
      expect(answer.Records!.map((r) => r.ShardId)).toEqual(stub.shards('ten').flatMap((s) => [s.shardId, s.shardId]));
    });

    it('stores the user records of an aggregated record, deaggregated, under one sequence number', async () => {
      const blob = encodeAggregated([
        { partitionKey: 'alpha', data: 'hello' },
        { partitionKey: 'beta', data: 'world', explicitHashKey: '12345' },
        { partitionKey: 'alpha', data: '!' },
      ]);
      const answer = await testingPut(stub.client, 's', [{ PartitionKey: 'a', ExplicitHashKey: '12345', Data: blob }]);
      expect(answer.Records![0].ShardId).toBe('shardId-000000000000');
      const accepted = stub.accepted('s');
      expect(accepted.map((r) => [r.partitionKey, r.explicitHashKey, text(r.data), r.subSequenceNumber])).toEqual([
        ['alpha', undefined, 'hello', 0],
        ['beta', '12345', 'world', 1],
        ['alpha', undefined, '!', 2],
      ]);
      expect(new Set(accepted.map((r) => r.sequenceNumber))).toEqual(new Set([answer.Records![0].SequenceNumber]));
      expect(stub.stats()).toMatchObject({ kinesisRecords: 1, userRecords: 3, putRecordsRequests: 1 });
    });

    it('rejects more than 500 records with ValidationException, as AWS does', async () => {
      const err = await failure(testingPut(stub.client, 's', testingEntries(501)));
      expect(err.name).toBe('ValidationException');
      expect(stub.accepted()).toEqual([]);
    });

    it('logs every request and every PutRecords', async () => {
      await testingPut(stub.client, 's', testingEntries(3));
      await testingPut(stub.client, 'ten', testingEntries(5));
      await stub.client.send(new ListShardsCommand({ StreamName: 's' }));
      expect(stub.requests).toBe(3);
      expect(stub.putRecordsRequests.map((r) => [r.streamName, r.records, r.outcome, r.failedRecords])).toEqual([
        ['s', 3, 'answered', 0],
        ['ten', 5, 'answered', 0],
      ]);
    });
  });

  describe('faults', () => {
    const codes = (records: PutRecordsResultEntry[] | undefined) => records!.map((r) => r.ErrorCode ?? 'ok');

    it('throttles every k-th record and stores only the others', async () => {
      stub.setBehaviour({ throttleRecords: { every: 2 } });
      const entries = testingEntries(6);
      const answer = await testingPut(stub.client, 's', entries);
      expect(codes(answer.Records)).toEqual(['ok', 'ProvisionedThroughputExceededException', 'ok', 'ProvisionedThroughputExceededException', 'ok', 'ProvisionedThroughputExceededException']);
      expect(answer.Records![1].ErrorMessage).toMatch(/^Rate exceeded for shard shardId-\d{12} in stream s under account 000000000000\.$/);
      expect(answer.FailedRecordCount).toBe(3);
      expect(stub.accepted().map((r) => r.partitionKey)).toEqual(['pk-0', 'pk-2', 'pk-4']);
      expect(stub.putRecordsRequests[0].failedRecords).toBe(3);
    });

    it('throttles a seeded fraction of records deterministically', async () => {
      const run = async (seed: number) => {
        stub.setBehaviour({ throttleRecords: { fraction: 0.3 }, seed });
        const answer = await testingPut(stub.client, 's', testingEntries(200));
        return codes(answer.Records).map((c) => c !== 'ok');
      };
      const first = await run(7);
      const again = await run(7);
      const other = await run(8);
      expect(again).toEqual(first);
      expect(other).not.toEqual(first);
      const throttled = first.filter(Boolean).length;
      expect(throttled).toBeGreaterThan(30);
      expect(throttled).toBeLessThan(90);
      expect(stub.stats().failedRecords).toBe(throttled * 2 + other.filter(Boolean).length);
    });

    it('fails records with per-record InternalFailure', async () => {
      stub.setBehaviour({ internalFailureRecords: { first: 1, every: 3 } });
      const answer = await testingPut(stub.client, 's', testingEntries(6));
      expect(codes(answer.Records)).toEqual(['InternalFailure', 'ok', 'InternalFailure', 'ok', 'ok', 'InternalFailure']);
      expect(stub.accepted().map((r) => r.partitionKey)).toEqual(['pk-1', 'pk-3', 'pk-4']);
    });

    it('answers the first n requests with HTTP 500 InternalFailure, storing nothing from them', async () => {
      stub.setBehaviour({ internalFailureRequests: { first: 2 } });
      for (let i = 0; i < 2; i++) {
        const err = await failure(testingPut(stub.client, 's', testingEntries(3)));
        expect(err.name).toBe('InternalFailure');
        expect(err.$metadata?.httpStatusCode).toBe(500);
      }
      const ok = await testingPut(stub.client, 's', testingEntries(3));
      expect(ok.FailedRecordCount).toBe(0);
      expect(stub.accepted()).toHaveLength(3);
      expect(stub.putRecordsRequests.map((r) => r.outcome)).toEqual(['error', 'error', 'answered']);
    });

    it('applies request faults to other operations when asked', async () => {
      stub.setBehaviour({ operations: ['ListShards'], internalFailureRequests: { first: 1 } });
      expect((await failure(stub.client.send(new ListShardsCommand({ StreamName: 's' })))).name).toBe('InternalFailure');
      expect((await stub.client.send(new ListShardsCommand({ StreamName: 's' }))).Shards).toHaveLength(4);
      expect((await testingPut(stub.client, 's', testingEntries(1))).FailedRecordCount).toBe(0);
    });

    it('answers chosen requests with ResourceNotFoundException', async () => {
      stub.setBehaviour({ resourceNotFoundRequests: { every: 2 } });
      expect((await testingPut(stub.client, 's', testingEntries(1))).FailedRecordCount).toBe(0);
      expect((await failure(testingPut(stub.client, 's', testingEntries(1)))).name).toBe('ResourceNotFoundException');
      expect(stub.accepted()).toHaveLength(1);
    });

    it('resets the connection mid-request, storing nothing', async () => {
      stub.setBehaviour({ resetRequests: { first: 1 } });
      const err = await failure(testingPut(stub.client, 's', testingEntries(2)));
      // Node reports a peer that closes without answering as "socket hang up" (code ECONNRESET), which
      // @smithy/node-http-handler renames TimeoutError. Under jest the error comes from another realm, so
      // the SDK's asSdkError wraps it: name 'Error', message 'AWS SDK error wrapper for TimeoutError: socket hang up'.
      expect(err.message).toMatch(/socket hang up/);
      expect(stub.accepted()).toEqual([]);
      expect((await testingPut(stub.client, 's', testingEntries(2))).FailedRecordCount).toBe(0);
      expect(stub.putRecordsRequests.map((r) => r.outcome)).toEqual(['reset', 'answered']);
    });

    it('never answers a hanging request, so the client times out; nothing is stored', async () => {
      await stub.close();
      stub = await startFaultyKinesis({ streams: { s: 1 }, behaviour: { hangRequests: { first: 1 } }, client: { requestTimeoutMs: 300 } });
      const err = await failure(testingPut(stub.client, 's', testingEntries(2)));
      expect(err.name).toBe('TimeoutError');
      expect(stub.accepted()).toEqual([]);
      expect(stub.putRecordsRequests[0].outcome).toBe('hang');
    });

    it('ends hanging requests on close()', async () => {
      stub.setBehaviour({ hangRequests: { every: 1 } });
      const pending = failure(testingPut(stub.client, 's', testingEntries(1)));
      while (stub.requests === 0) await new Promise((r) => setImmediate(r));
      await stub.close();
      expect((await pending).message.length).toBeGreaterThan(0);
    });

    it('adds latency before answering', async () => {
      stub.setBehaviour({ latencyMs: (req) => (req.index === 0 ? 200 : 0) });
      const started = performance.now();
      await testingPut(stub.client, 's', testingEntries(1));
      expect(performance.now() - started).toBeGreaterThanOrEqual(180);
      const again = performance.now();
      await testingPut(stub.client, 's', testingEntries(1));
      expect(performance.now() - again).toBeLessThan(180);
    });

    it('answers a given shard id instead of the right one, and stores the record under it', async () => {
      stub.setBehaviour({ answerShardId: 'shardId-000000000009' });
      const answer = await testingPut(stub.client, 's', testingEntries(3));
      expect(answer.Records!.map((r) => r.ShardId)).toEqual(Array(3).fill('shardId-000000000009'));
      expect(stub.accepted().map((r) => r.shardId)).toEqual(Array(3).fill('shardId-000000000009'));
      stub.setBehaviour({ answerShardId: (actual, record) => (record.position === 0 ? 'shardId-000000000002' : actual) });
      const mixed = await testingPut(stub.client, 's', testingEntries(2, 'other'));
      expect(mixed.Records![0].ShardId).toBe('shardId-000000000002');
      expect(mixed.Records![1].ShardId).toBe(expectedShard(stub, 's', partitionKeyToHashKey('other-1')));
    });

    it('answers fewer records than were sent, storing only those answered', async () => {
      stub.setBehaviour({ responseRecordCountDelta: -2 });
      const answer = await testingPut(stub.client, 's', testingEntries(5));
      expect(answer.Records).toHaveLength(3);
      expect(stub.accepted().map((r) => r.partitionKey)).toEqual(['pk-0', 'pk-1', 'pk-2']);
    });

    it('answers more records than were sent, storing only the real ones', async () => {
      stub.setBehaviour({ responseRecordCountDelta: 2 });
      const answer = await testingPut(stub.client, 's', testingEntries(3));
      expect(answer.Records).toHaveLength(5);
      expect(answer.FailedRecordCount).toBe(0);
      expect(stub.accepted()).toHaveLength(3);
    });

    it('lets functions decide per request and per record', async () => {
      stub.setBehaviour({
        request: (req) => (req.index === 1 ? { kind: 'error', code: 'KMSThrottlingException', status: 400, message: 'slow down' } : undefined),
        record: (rec) => (rec.partitionKey === 'pk-1' ? { errorCode: 'InternalFailure', errorMessage: 'poison' } : undefined),
      });
      const first = await testingPut(stub.client, 's', testingEntries(3));
      expect(first.Records![1]).toEqual({ ErrorCode: 'InternalFailure', ErrorMessage: 'poison' });
      const err = await failure(testingPut(stub.client, 's', testingEntries(3)));
      expect(err.name).toBe('KMSThrottlingException');
      expect(err.message).toBe('slow down');
      expect(stub.accepted().map((r) => r.partitionKey)).toEqual(['pk-0', 'pk-2']);
    });

    it('matches the accepted set to the successes the client saw, under mixed faults', async () => {
      stub.setBehaviour({ throttleRecords: { fraction: 0.2 }, internalFailureRecords: { every: 7 }, internalFailureRequests: { every: 3 }, seed: 42 });
      const succeeded: string[] = [];
      for (let batch = 0; batch < 9; batch++) {
        const entries: PutRecordsRequestEntry[] = testingEntries(50, `b${batch}`);
        try {
          const answer = await stub.client.send(new PutRecordsCommand({ StreamName: 's', Records: entries }));
          answer.Records!.forEach((r, i) => {
            if (r.ErrorCode === undefined) succeeded.push(`${entries[i].PartitionKey}@${r.SequenceNumber}`);
          });
        } catch {
          // request-level failure: nothing from it may be stored
        }
      }
      const stored = stub.accepted('s').map((r) => `${r.partitionKey}@${r.sequenceNumber}`);
      expect(stored.sort()).toEqual(succeeded.sort());
      expect(stub.putRecordsRequests.filter((r) => r.outcome === 'error')).toHaveLength(3);
    });
  });

  describe('store: false', () => {
    it('keeps counts but no records', async () => {
      const counting = await startFaultyKinesis({ streams: { s: 2 }, store: false });
      try {
        const blob = encodeAggregated([
          { partitionKey: 'x', data: '1' },
          { partitionKey: 'y', data: '2' },
        ]);
        await testingPut(counting.client, 's', [...testingEntries(3), { PartitionKey: 'a', Data: blob }]);
        expect(counting.accepted()).toEqual([]);
        expect(counting.stats()).toEqual({ requests: 1, putRecordsRequests: 1, kinesisRecords: 4, userRecords: 5, failedRecords: 0 });
        const served = await fetch(`${counting.endpoint}/__stats`).then((r) => r.json());
        expect(served).toEqual(counting.stats());
      } finally {
        await counting.close();
      }
    });
  });
});
