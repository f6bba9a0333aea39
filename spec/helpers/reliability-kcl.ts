/**
 * Reconciles what a producer reported with what a KCL consumer reads back (kpl.md §13): nothing
 * lost, no duplicate the KCL delivers except after a request that ended without an answer, and
 * every user record of a straddling aggregated record re-sent.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { RecordResult, UserRecord } from '../../lib/records';
import { attemptCodes, resultsByRecord, UNANSWERED_CODES } from './reliability-load';
import { entries, kclViewWithAwsKinesisAgg, kclViewWithDeaggregate, rawView, readStream } from './reliability-readback';

/** The counts a resharding test prints and checks. */
export interface KclReconciliation {
  readonly records: number;
  readonly results: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly failedCodes: Record<string, number>;
  readonly attemptErrorCodes: Record<string, number>;
  readonly shardsRead: number;
  readonly closedShards: number;
  readonly unreachedShards: number;
  readonly kinesisRecords: number;
  readonly aggregatedRecords: number;
  readonly plainRecords: number;
  /** User records a KCL consumer delivers (with multiplicity). */
  readonly kclDelivered: number;
  /** Successful records the KCL never delivers: must be 0. */
  readonly lost: number;
  /** Extra KCL deliveries of records whose attempts include an unanswered request (may have been stored). */
  readonly kclDuplicatesAfterNoAnswer: number;
  /** Extra KCL deliveries with no such explanation: must be 0. */
  readonly kclDuplicatesUnexplained: number;
  /** Aggregated records the KCL drops whole (a sub-record outside the shard's range). */
  readonly straddlingAggregated: number;
  readonly straddlingSubRecords: number;
  /** Sub-records of straddling records whose user record the KCL never delivers: must be 0. */
  readonly straddlingNotResent: number;
  /** Extra copies stored in all, ranges ignored (straddling copies and wrong-shard re-sends included). */
  readonly rawDuplicates: number;
  /** Records with a failed result that the KCL delivers anyway (stored, then e.g. expired). */
  readonly failedButDelivered: number;
  /** deaggregate({ shardRange }) and aws-kinesis-agg + range check give the same view. */
  readonly viewsAgree: boolean;
}

/** Reads the stream back and reconciles it with the results. Data texts must be unique per record. */
export async function reconcileWithKcl(
  client: Pick<KinesisClient, 'send'>,
  streamName: string,
  records: readonly UserRecord[],
  results: readonly RecordResult[],
): Promise<KclReconciliation> {
  const byRecord = resultsByRecord(records, results);
  const read = await readStream(client, streamName);
  const ours = await kclViewWithDeaggregate(read);
  const theirs = kclViewWithAwsKinesisAgg(read);
  const viewsAgree =
    JSON.stringify(entries(ours.kept)) === JSON.stringify(entries(theirs.kept)) &&
    JSON.stringify(entries(ours.droppedSubRecords)) === JSON.stringify(entries(theirs.droppedSubRecords)) &&
    ours.droppedAggregated === theirs.droppedAggregated;
  const raw = rawView(ours);

  let succeeded = 0;
  let lost = 0;
  let afterNoAnswer = 0;
  let unexplained = 0;
  let failedButDelivered = 0;
  let straddlingNotResent = 0;
  const failedCodes: Record<string, number> = {};
  for (const record of records) {
    const text = record.data as string;
    const result = byRecord.get(record);
    const delivered = ours.kept.get(text) ?? 0;
    if (result?.success) {
      succeeded++;
      if (delivered === 0) lost++;
    } else if (result !== undefined) {
      failedCodes[result.errorCode ?? '?'] = (failedCodes[result.errorCode ?? '?'] ?? 0) + 1;
      if (delivered > 0) failedButDelivered++;
    }
    if (delivered > 1) {
      const noAnswer = result?.attempts.some((a) => !a.success && UNANSWERED_CODES.has(a.errorCode ?? '')) ?? false;
      if (noAnswer) afterNoAnswer += delivered - 1;
      else unexplained += delivered - 1;
    }
    if ((ours.droppedSubRecords.get(text) ?? 0) > 0 && delivered === 0) straddlingNotResent++;
  }
  let rawDuplicates = 0;
  for (const n of raw.values()) rawDuplicates += Math.max(0, n - 1);
  let straddlingSubRecords = 0;
  for (const n of ours.droppedSubRecords.values()) straddlingSubRecords += n;
  let kclDelivered = 0;
  for (const n of ours.kept.values()) kclDelivered += n;

  return {
    records: records.length,
    results: byRecord.size,
    succeeded,
    failed: byRecord.size - succeeded,
    failedCodes,
    attemptErrorCodes: attemptCodes(byRecord.values()),
    shardsRead: read.shards.length,
    closedShards: read.shards.filter((s) => s.closed).length,
    unreachedShards: read.unreached.length,
    kinesisRecords: ours.kinesisRecords,
    aggregatedRecords: ours.aggregatedRecords,
    plainRecords: ours.plainRecords,
    kclDelivered,
    lost,
    kclDuplicatesAfterNoAnswer: afterNoAnswer,
    kclDuplicatesUnexplained: unexplained,
    straddlingAggregated: ours.droppedAggregated,
    straddlingSubRecords,
    straddlingNotResent,
    rawDuplicates,
    failedButDelivered,
    viewsAgree,
  };
}
