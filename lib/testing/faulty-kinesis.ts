/**
 * A fault-injecting Kinesis stub: an HTTP/1.1 server on 127.0.0.1 that speaks the AWS JSON 1.1
 * protocol the SDK v3 Kinesis client uses (`X-Amz-Target: Kinesis_20131202.<Operation>`), answers
 * ListShards, DescribeStreamSummary and PutRecords, and fails on command.
 *
 * Why it exists: neither kinesalite nor kinesis-local ever throttles or fails a record
 * (node-testing.md §1–2), yet the KPL's hard parts are exactly those paths: throttling and
 * per-record failures (kpl.md §8), request timeouts and connection resets, wrong-shard answers
 * after a reshard (kpl.md §4), and answers whose record count does not match the request. Every
 * fault here is deterministic (first n, every k-th, or a seeded fraction), so a test can name the
 * exact records that fail.
 *
 * What it stores: every record answered with success, deaggregated with our codec, and nothing
 * else. So "nothing lost" is `accepted()` ⊇ what the producer reported as successful, and "nothing
 * falsely successful" is the other direction.
 *
 * Shards: stream `s` with N shards gets even ranges: step = floor(2^128 / N), shard i covers
 * [i·step, (i+1)·step − 1], the last one ends at 2^128 − 1; ids `shardId-000000000000` … (the
 * AWS and kinesalite format). kinesis-local's ranges differ slightly (node-testing.md §1): producers
 * must read ranges from ListShards, never compute them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { decodeAggregated, isAggregated } from '../codec/aggregation';
import { bigIntToHashKey, compareHashKeys, hashKeyOfPartitionKey, MAX_HASH_KEY, parseExplicitHashKey, type HashKey } from '../codec/hash';
import { createKinesisClient, type KinesisClientOptions } from '../producer/create-kinesis-client';
import { localCredentials } from './embedded-kinesis';
import { mulberry32 } from './mulberry32';

/* ------------------------------------------------------------------------------------------------ */
/* Behaviour                                                                                        */
/* ------------------------------------------------------------------------------------------------ */

/**
 * Which requests (or records) a declarative fault hits. A request or record is hit when **any**
 * given rule matches; indexes count from 0 since the behaviour was set (`setBehaviour` resets them).
 *
 * @example { first: 2 }           // the first two
 * @example { every: 3 }           // the 3rd, 6th, 9th …
 * @example { fraction: 0.1 }      // about 10 %, drawn from the behaviour's seeded PRNG
 */
export interface FaultSelector {
  /** Hits indexes 0 … first − 1. */
  readonly first?: number;
  /** Hits index i when (i + 1) is a multiple of `every`. */
  readonly every?: number;
  /** Hits with this probability, from a PRNG seeded with {@link FaultBehaviour.seed}. */
  readonly fraction?: number;
}

/** One request as the behaviour functions see it. */
export interface FaultyRequest {
  /** The operation from `X-Amz-Target`, e.g. `'PutRecords'`, `'ListShards'`. */
  readonly operation: string;
  /** 0-based count of requests of this operation since the behaviour was set. */
  readonly index: number;
  /** The stream named by `StreamName` (or `StreamARN`), if any. */
  readonly streamName: string | undefined;
  /** PutRecords entries in the request; 0 for other operations. */
  readonly recordCount: number;
}

/** What a request-level fault does instead of answering normally. */
export type RequestFault =
  /** An error answer: HTTP `status` (default 400, 500 for `InternalFailure`) with `{"__type": code, "message": …}`. */
  | { readonly kind: 'error'; readonly code: string; readonly status?: number; readonly message?: string }
  /** Destroys the socket after the request was read: the client sees a connection reset. */
  | { readonly kind: 'reset' }
  /** Never answers; the request is ended only by `close()` or the client's own timeout. */
  | { readonly kind: 'hang' };

/** One PutRecords entry as the per-record behaviour sees it. */
export interface FaultyRecord {
  /** 0-based count of PutRecords entries since the behaviour was set (across requests). */
  readonly index: number;
  /** The request's {@link FaultyRequest.index}. */
  readonly requestIndex: number;
  /** Position of the entry in its request. */
  readonly position: number;
  readonly streamName: string;
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  /** The shard whose range holds the entry's hash key. */
  readonly shardId: string;
  /** The entry's data (a Kinesis record: possibly an aggregated blob). */
  readonly data: Uint8Array;
}

/** A per-record error answer (the record is not stored). */
export interface RecordFault {
  readonly errorCode: string;
  readonly errorMessage?: string;
}

/**
 * How the stub misbehaves. Every field is optional; `{}` is a well-behaved Kinesis. Request-level
 * faults are checked in this order: `request()`, `resetRequests`, `hangRequests`,
 * `resourceNotFoundRequests`, `internalFailureRequests`; per-record faults: `record()`,
 * `throttleRecords`, `internalFailureRecords`.
 *
 * @example
 * // Throttle every 4th record, fail the first request with a 500, answer 200 ms late:
 * stub.setBehaviour({ throttleRecords: { every: 4 }, internalFailureRequests: { first: 1 }, latencyMs: 200 });
 */
export interface FaultBehaviour {
  /** Seed of the PRNG behind every `fraction` (mulberry32). Default 1. */
  readonly seed?: number;
  /** Operations that request-level faults and latency apply to. Default `['PutRecords']`. */
  readonly operations?: readonly string[];
  /**
   * Added latency before answering, in ms (also before an error or reset answer).
   * @example { latencyMs: 50 } or { latencyMs: (req) => (req.index === 0 ? 1000 : 0) }
   */
  readonly latencyMs?: number | ((request: FaultyRequest) => number);
  /**
   * Full control over requests: return a fault, or `undefined` to fall through to the other options.
   * @example { request: (req) => (req.index % 2 === 0 ? { kind: 'error', code: 'InternalFailure', status: 500 } : undefined) }
   */
  readonly request?: (request: FaultyRequest) => RequestFault | undefined;
  /**
   * Destroy the socket of these requests mid-request (after reading the body, before answering).
   * @example { resetRequests: { first: 1 } }
   */
  readonly resetRequests?: FaultSelector;
  /**
   * Never answer these requests (until `close()`): exercises the client's request timeout.
   * @example { hangRequests: { every: 10 } }
   */
  readonly hangRequests?: FaultSelector;
  /**
   * Answer these requests with 400 `ResourceNotFoundException`, as for a deleted stream.
   * @example { resourceNotFoundRequests: { first: 3 } }
   */
  readonly resourceNotFoundRequests?: FaultSelector;
  /**
   * Answer these requests with HTTP 500 `InternalFailure`.
   * @example { internalFailureRequests: { fraction: 0.05 } }
   */
  readonly internalFailureRequests?: FaultSelector;
  /**
   * Full control over PutRecords entries: return a fault, or `undefined` to fall through.
   * @example { record: (r) => (r.partitionKey === 'poison' ? { errorCode: 'InternalFailure' } : undefined) }
   */
  readonly record?: (record: FaultyRecord) => RecordFault | undefined;
  /**
   * Fail these entries with `ProvisionedThroughputExceededException` ("Rate exceeded for shard …").
   * @example { throttleRecords: { every: 2 } }
   */
  readonly throttleRecords?: FaultSelector;
  /**
   * Fail these entries with per-record `InternalFailure`.
   * @example { internalFailureRecords: { fraction: 0.01 } }
   */
  readonly internalFailureRecords?: FaultSelector;
  /**
   * Answer successful entries with this ShardId instead of the shard their hash key belongs to,
   * as Kinesis does after a reshard the producer has not seen yet. The record is stored under the
   * answered shard id (the answer is the truth the producer sees).
   * @example { answerShardId: 'shardId-000000000007' } or { answerShardId: (actual) => actual === 'shardId-000000000000' ? 'shardId-000000000001' : actual }
   */
  readonly answerShardId?: string | ((actualShardId: string, record: FaultyRecord) => string);
  /**
   * Answer with this many entries more (> 0: made-up successes, nothing stored) or fewer (< 0: the
   * last entries are left out and not stored) than the request had.
   * @example { responseRecordCountDelta: -1 }
   */
  readonly responseRecordCountDelta?: number;
}

/* ------------------------------------------------------------------------------------------------ */
/* Public shapes                                                                                    */
/* ------------------------------------------------------------------------------------------------ */

/** One user record the stub stored: a raw Kinesis record, or one sub-record of an aggregated one. */
export interface AcceptedRecord {
  readonly streamName: string;
  /** The shard it was answered with (see {@link FaultBehaviour.answerShardId}). */
  readonly shardId: string;
  readonly partitionKey: string;
  /** Raw record: the entry's ExplicitHashKey; sub-record: its own explicit hash key, if it had one. */
  readonly explicitHashKey?: string;
  readonly data: Uint8Array;
  /** The Kinesis record's sequence number (shared by the sub-records of one aggregated record). */
  readonly sequenceNumber: string;
  /** Position inside the aggregated record; absent for a raw record. */
  readonly subSequenceNumber?: number;
}

/** One PutRecords request as the stub saw it. */
export interface PutRecordsRequestLog {
  /** `Date.now()` when the request body was read. */
  readonly at: number;
  readonly streamName: string | undefined;
  /** Kinesis records (entries) in the request. */
  readonly records: number;
  /** What the stub did. */
  readonly outcome: 'answered' | 'error' | 'reset' | 'hang';
  /** Entries answered with an error (only for `answered`). */
  readonly failedRecords: number;
}

/** Counters of a {@link FaultyKinesis}, also served as JSON on `GET /__stats`. */
export interface FaultyKinesisStats {
  /** HTTP requests of any Kinesis operation. */
  readonly requests: number;
  readonly putRecordsRequests: number;
  /** Kinesis records stored (answered with success). */
  readonly kinesisRecords: number;
  /** User records stored (aggregated records counted by their sub-records). */
  readonly userRecords: number;
  /** Entries answered with a per-record error. */
  readonly failedRecords: number;
}

/** Options of {@link startFaultyKinesis}. */
export interface FaultyKinesisOptions {
  /** Stream name → shard count. Every stream is ACTIVE from the start. */
  readonly streams: Readonly<Record<string, number>>;
  /** The initial behaviour. Default `{}` (no faults). */
  readonly behaviour?: FaultBehaviour;
  /** Keep accepted records (for `accepted()`); `false` keeps only counts. Default true. */
  readonly store?: boolean;
  /** ListShards page size when the request gives no MaxResults. Default 1000. */
  readonly listShardsPageSize?: number;
  /** Options of the client made for you (endpoint and credentials are set). */
  readonly client?: Omit<KinesisClientOptions, 'endpoint'>;
}

/** A running stub. */
export interface FaultyKinesis {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** A {@link createKinesisClient} client on `endpoint`; destroyed by `close()`. */
  readonly client: KinesisClient;
  /** Replaces the behaviour and resets its counters and PRNG. */
  setBehaviour(behaviour: FaultBehaviour): void;
  /** Stored user records, in the order they were stored; only those of `streamName` if given. */
  accepted(streamName?: string): AcceptedRecord[];
  /** HTTP requests of any Kinesis operation so far. */
  readonly requests: number;
  /** Every PutRecords request so far, oldest first. */
  readonly putRecordsRequests: readonly PutRecordsRequestLog[];
  /** Counters (what `GET /__stats` serves). */
  stats(): FaultyKinesisStats;
  /** The shard ranges of a stream, as ListShards answers them. */
  shards(streamName: string): readonly StubShard[];
  /** Ends hanging and delayed requests, closes every socket and the server, destroys the client. Idempotent. */
  close(): Promise<void>;
}

/** One shard of the stub: its id and inclusive hash key range. */
export interface StubShard {
  readonly shardId: string;
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
}

/* ------------------------------------------------------------------------------------------------ */
/* Internals                                                                                        */
/* ------------------------------------------------------------------------------------------------ */

const API_PREFIX = 'Kinesis_20131202.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const ACCOUNT = '000000000000';
const MAX_RECORDS = 500;
const MAX_REQUEST_BYTES = 5 * 1024 * 1024;
const MAX_RECORD_BYTES = 1024 * 1024;


function selects(selector: FaultSelector | undefined, index: number, random: () => number): boolean {
  if (selector === undefined) return false;
  if (selector.first !== undefined && index < selector.first) return true;
  if (selector.every !== undefined && selector.every > 0 && (index + 1) % selector.every === 0) return true;
  if (selector.fraction !== undefined && selector.fraction > 0 && random() < selector.fraction) return true;
  return false;
}

/** The shard id format of AWS and kinesalite: `shardId-` and 12 digits. */
export function stubShardId(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`;
}

/** Even ranges over `count` shards (see the file comment). */
export function evenShards(count: number): StubShard[] {
  const step = (MAX_HASH_KEY + 1n) / BigInt(count);
  return Array.from({ length: count }, (_, i) => ({
    shardId: stubShardId(i),
    startingHashKey: BigInt(i) * step,
    endingHashKey: i === count - 1 ? MAX_HASH_KEY : BigInt(i + 1) * step - 1n,
  }));
}

interface StreamState {
  readonly name: string;
  readonly shards: StubShard[];
  /** Starting hash keys as 16 bytes, for routing without BigInt. */
  readonly starts: Uint8Array[];
  readonly createdAt: number;
  sequence: number;
}

class ClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface PutEntry {
  Data?: unknown;
  PartitionKey?: unknown;
  ExplicitHashKey?: unknown;
}

interface Answer {
  status: number;
  body: unknown;
  errorCode?: string;
}

function streamNameOf(body: Record<string, unknown>): string | undefined {
  if (typeof body['StreamName'] === 'string') return body['StreamName'];
  const arn = body['StreamARN'];
  if (typeof arn === 'string') {
    const slash = arn.lastIndexOf('/');
    return slash >= 0 ? arn.slice(slash + 1) : arn;
  }
  return undefined;
}

function toBytes(bytes: Buffer): Uint8Array {
  // The decoder returns views into the body buffer; a copy lets the body be collected.
  return new Uint8Array(bytes);
}

/* ------------------------------------------------------------------------------------------------ */
/* The server                                                                                       */
/* ------------------------------------------------------------------------------------------------ */

/**
 * Starts the fault-injecting Kinesis stub on 127.0.0.1 and a free port, with a client pointed at it.
 *
 * ```text
 * behaviour { throttleRecords: { every: 2 } }, one PutRecords of a b c d:
 * request:  [a, b, c, d]
 * answer:   [ok, Throttled, ok, Throttled]    FailedRecordCount 2
 * accepted: [a, c]
 * ```
 *
 * - Errors are AWS JSON 1.1 errors (`{"__type": code, "message": …}` plus the `x-amzn-ErrorType`
 *   header), so the SDK's error `name` is the code, as against AWS.
 * - `GET /__stats` answers {@link FaultyKinesisStats} as JSON; `POST /__behaviour` with a JSON
 *   behaviour replaces it (functions cannot cross HTTP: declarative fields only).
 * - `close()` ends hanging requests too, so tests of request timeouts leave nothing open.
 *
 * @example
 * const stub = await startFaultyKinesis({ streams: { s: 4 }, behaviour: { throttleRecords: { fraction: 0.2 } } });
 * // … run the producer with { client: stub.client, streamName: 's' } …
 * expect(stub.accepted('s')).toHaveLength(successes);
 * await stub.close();
 *
 * @param options - streams, initial behaviour, storage, client options.
 * @returns the running stub.
 */
export async function startFaultyKinesis(options: FaultyKinesisOptions): Promise<FaultyKinesis> {
  const streams = new Map<string, StreamState>();
  for (const [name, count] of Object.entries(options.streams)) {
    if (!Number.isInteger(count) || count < 1 || count > 100000) throw new RangeError(`stream ${name}: shard count ${count} is not an integer 1 … 100000`);
    const shards = evenShards(count);
    streams.set(name, { name, shards, starts: shards.map((s) => bigIntToHashKey(s.startingHashKey)), createdAt: Date.now(), sequence: 0 });
  }
  const store = options.store ?? true;
  const pageSize = options.listShardsPageSize ?? 1000;

  let behaviour: FaultBehaviour = {};
  let random: () => number = mulberry32(1);
  let operationCounts = new Map<string, number>();
  let recordCounter = 0;
  const setBehaviour = (next: FaultBehaviour): void => {
    behaviour = next;
    random = mulberry32(next.seed ?? 1);
    operationCounts = new Map();
    recordCounter = 0;
  };
  setBehaviour(options.behaviour ?? {});

  const accepted: AcceptedRecord[] = [];
  const putLog: PutRecordsRequestLog[] = [];
  const counters = { requests: 0, putRecordsRequests: 0, kinesisRecords: 0, userRecords: 0, failedRecords: 0 };
  const stats = (): FaultyKinesisStats => ({ ...counters });

  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let closed = false;

  /** The last shard whose starting key is ≤ key (binary search over 16-byte keys). */
  function shardIndexFor(stream: StreamState, key: HashKey): number {
    let lo = 0;
    let hi = stream.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (compareHashKeys(stream.starts[mid], key) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  function nextSequence(stream: StreamState): string {
    stream.sequence += 1;
    return `49${String(stream.sequence).padStart(54, '0')}`;
  }

  function requireStream(name: string | undefined): StreamState {
    const stream = name === undefined ? undefined : streams.get(name);
    if (stream === undefined) {
      throw new ClientError('ResourceNotFoundException', `Stream ${name} under account ${ACCOUNT} not found.`);
    }
    return stream;
  }

  function storeRecord(stream: StreamState, shardId: string, entry: { pk: string; ehk: string | undefined; data: Buffer }, sequenceNumber: string): void {
    counters.kinesisRecords++;
    if (isAggregated(entry.data)) {
      let subRecords: ReturnType<typeof decodeAggregated> | undefined;
      try {
        subRecords = decodeAggregated(entry.data);
      } catch {
        subRecords = undefined; // a bad blob is a raw record to a reader (the KCL does the same)
      }
      if (subRecords !== undefined) {
        counters.userRecords += subRecords.length;
        if (store) {
          subRecords.forEach((sub, i) => {
            const record: AcceptedRecord = {
              streamName: stream.name,
              shardId,
              partitionKey: sub.partitionKey,
              data: new Uint8Array(sub.data),
              sequenceNumber,
              subSequenceNumber: i,
              ...(sub.explicitHashKey !== undefined ? { explicitHashKey: sub.explicitHashKey } : {}),
            };
            accepted.push(record);
          });
        }
        return;
      }
    }
    counters.userRecords++;
    if (store) {
      accepted.push({
        streamName: stream.name,
        shardId,
        partitionKey: entry.pk,
        data: toBytes(entry.data),
        sequenceNumber,
        ...(entry.ehk !== undefined ? { explicitHashKey: entry.ehk } : {}),
      });
    }
  }

  function listShards(body: Record<string, unknown>): Answer {
    let streamName = streamNameOf(body);
    let offset = 0;
    const token = body['NextToken'];
    if (typeof token === 'string') {
      try {
        const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { s: string; o: number };
        streamName = parsed.s;
        offset = parsed.o;
      } catch {
        throw new ClientError('InvalidArgumentException', 'NextToken is not valid');
      }
    }
    const stream = requireStream(streamName);
    const exclusiveStart = body['ExclusiveStartShardId'];
    if (typeof exclusiveStart === 'string' && typeof token !== 'string') {
      const i = stream.shards.findIndex((s) => s.shardId === exclusiveStart);
      offset = i >= 0 ? i + 1 : stream.shards.filter((s) => s.shardId <= exclusiveStart).length;
    }
    const max = typeof body['MaxResults'] === 'number' ? Math.max(1, Math.min(10000, body['MaxResults'])) : pageSize;
    const page = stream.shards.slice(offset, offset + max);
    const more = offset + max < stream.shards.length;
    return {
      status: 200,
      body: {
        Shards: page.map((s) => ({
          ShardId: s.shardId,
          HashKeyRange: { StartingHashKey: s.startingHashKey.toString(), EndingHashKey: s.endingHashKey.toString() },
          SequenceNumberRange: { StartingSequenceNumber: `49${'0'.repeat(54)}` },
        })),
        ...(more ? { NextToken: Buffer.from(JSON.stringify({ s: stream.name, o: offset + max })).toString('base64') } : {}),
      },
    };
  }

  function describeStreamSummary(body: Record<string, unknown>): Answer {
    const stream = requireStream(streamNameOf(body));
    return {
      status: 200,
      body: {
        StreamDescriptionSummary: {
          StreamName: stream.name,
          StreamARN: `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/${stream.name}`,
          StreamStatus: 'ACTIVE',
          StreamModeDetails: { StreamMode: 'PROVISIONED' },
          RetentionPeriodHours: 24,
          StreamCreationTimestamp: Math.floor(stream.createdAt / 1000),
          EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
          EncryptionType: 'NONE',
          OpenShardCount: stream.shards.length,
          ConsumerCount: 0,
        },
      },
    };
  }

  function putRecords(body: Record<string, unknown>, requestIndex: number, log: { failedRecords: number }): Answer {
    const stream = requireStream(streamNameOf(body));
    const entries = body['Records'];
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_RECORDS) {
      throw new ClientError(
        'ValidationException',
        `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between 1 and ${MAX_RECORDS}`,
      );
    }
    // Parse and validate every entry first: a bad entry rejects the whole request, as on AWS.
    let total = 0;
    const parsed = (entries as PutEntry[]).map((entry) => {
      const pk = entry.PartitionKey;
      if (typeof pk !== 'string' || pk.length < 1 || pk.length > 256) {
        throw new ClientError('ValidationException', "1 validation error detected: Value at 'records.member.partitionKey' failed to satisfy constraint: Member must have length between 1 and 256");
      }
      if (typeof entry.Data !== 'string') throw new ClientError('ValidationException', "Value null at 'records.member.data' failed to satisfy constraint: Member must not be null");
      const data = Buffer.from(entry.Data, 'base64');
      let ehk: string | undefined;
      let key: HashKey;
      if (entry.ExplicitHashKey !== undefined && entry.ExplicitHashKey !== null) {
        const parsedKey = typeof entry.ExplicitHashKey === 'string' ? parseExplicitHashKey(entry.ExplicitHashKey) : undefined;
        if (parsedKey === undefined) throw new ClientError('InvalidArgumentException', `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${String(entry.ExplicitHashKey)}`);
        ehk = entry.ExplicitHashKey as string;
        key = bigIntToHashKey(parsedKey);
      } else {
        key = hashKeyOfPartitionKey(pk);
      }
      const size = Buffer.byteLength(pk, 'utf8') + data.length;
      if (size > MAX_RECORD_BYTES) throw new ClientError('InvalidArgumentException', `Record size ${size} exceeds the maximum of ${MAX_RECORD_BYTES} bytes`);
      total += size;
      return { pk, ehk, data, shard: stream.shards[shardIndexFor(stream, key)] };
    });
    if (total > MAX_REQUEST_BYTES) throw new ClientError('InvalidArgumentException', `Request size ${total} exceeds the maximum of ${MAX_REQUEST_BYTES} bytes`);

    const answers: ({ SequenceNumber: string; ShardId: string } | { ErrorCode: string; ErrorMessage: string })[] = [];
    let failed = 0;
    const delta = behaviour.responseRecordCountDelta ?? 0;
    const answered = delta < 0 ? Math.max(0, parsed.length + delta) : parsed.length;
    parsed.forEach((entry, position) => {
      const view: FaultyRecord = {
        index: recordCounter++,
        requestIndex,
        position,
        streamName: stream.name,
        partitionKey: entry.pk,
        explicitHashKey: entry.ehk,
        shardId: entry.shard.shardId,
        data: entry.data,
      };
      if (position >= answered) return; // left out of the answer: not stored
      let fault = behaviour.record?.(view);
      if (fault === undefined && selects(behaviour.throttleRecords, view.index, random)) {
        fault = {
          errorCode: 'ProvisionedThroughputExceededException',
          errorMessage: `Rate exceeded for shard ${entry.shard.shardId} in stream ${stream.name} under account ${ACCOUNT}.`,
        };
      }
      if (fault === undefined && selects(behaviour.internalFailureRecords, view.index, random)) {
        fault = { errorCode: 'InternalFailure', errorMessage: 'Internal service failure.' };
      }
      if (fault !== undefined) {
        failed++;
        answers.push({ ErrorCode: fault.errorCode, ErrorMessage: fault.errorMessage ?? fault.errorCode });
        return;
      }
      const override = behaviour.answerShardId;
      const shardId = override === undefined ? entry.shard.shardId : typeof override === 'string' ? override : override(entry.shard.shardId, view);
      const sequenceNumber = nextSequence(stream);
      storeRecord(stream, shardId, entry, sequenceNumber);
      answers.push({ SequenceNumber: sequenceNumber, ShardId: shardId });
    });
    for (let i = 0; i < delta; i++) answers.push({ SequenceNumber: `49${'9'.repeat(54)}`, ShardId: stream.shards[0].shardId });
    counters.failedRecords += failed;
    log.failedRecords = failed;
    return { status: 200, body: { FailedRecordCount: failed, Records: answers } };
  }

  function send(res: http.ServerResponse, answer: Answer): void {
    if (res.destroyed || res.writableEnded) return;
    const payload = JSON.stringify(answer.body);
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(payload),
      'x-amzn-RequestId': `faulty-${counters.requests}`,
    };
    if (answer.errorCode !== undefined) headers['x-amzn-ErrorType'] = answer.errorCode;
    res.writeHead(answer.status, headers);
    res.end(payload);
  }

  function errorAnswer(code: string, message: string, status: number): Answer {
    return { status, errorCode: code, body: { __type: code, message } };
  }

  function later(ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

  function handleKinesis(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    const target = req.headers['x-amz-target'];
    const operation = typeof target === 'string' && target.startsWith(API_PREFIX) ? target.slice(API_PREFIX.length) : undefined;
    counters.requests++;
    if (operation === undefined) {
      return send(res, errorAnswer('UnknownOperationException', `Unknown X-Amz-Target ${String(target)}`, 400));
    }
    let body: Record<string, unknown>;
    try {
      body = raw.length === 0 ? {} : (JSON.parse(raw.toString('utf8')) as Record<string, unknown>);
    } catch {
      return send(res, errorAnswer('SerializationException', 'Start of structure or map found where not expected', 400));
    }
    const index = operationCounts.get(operation) ?? 0;
    operationCounts.set(operation, index + 1);
    const streamName = streamNameOf(body);
    const recordCount = operation === 'PutRecords' && Array.isArray(body['Records']) ? body['Records'].length : 0;
    const request: FaultyRequest = { operation, index, streamName, recordCount };
    const faultable = (behaviour.operations ?? ['PutRecords']).includes(operation);
    const log = { at: Date.now(), streamName, records: recordCount, outcome: 'answered' as PutRecordsRequestLog['outcome'], failedRecords: 0 };
    if (operation === 'PutRecords') {
      counters.putRecordsRequests++;
      putLog.push(log);
    }

    let fault: RequestFault | undefined;
    if (faultable) {
      fault = behaviour.request?.(request);
      if (fault === undefined && selects(behaviour.resetRequests, index, random)) fault = { kind: 'reset' };
      if (fault === undefined && selects(behaviour.hangRequests, index, random)) fault = { kind: 'hang' };
      if (fault === undefined && selects(behaviour.resourceNotFoundRequests, index, random)) {
        fault = { kind: 'error', code: 'ResourceNotFoundException', message: `Stream ${streamName} under account ${ACCOUNT} not found.` };
      }
      if (fault === undefined && selects(behaviour.internalFailureRequests, index, random)) {
        fault = { kind: 'error', code: 'InternalFailure', status: 500, message: 'Internal service failure.' };
      }
    }
    if (fault?.kind === 'hang') {
      log.outcome = 'hang';
      return; // the socket stays open until the client gives up or close() destroys it
    }
    const latency = faultable ? (typeof behaviour.latencyMs === 'function' ? behaviour.latencyMs(request) : (behaviour.latencyMs ?? 0)) : 0;
    const currentFault = fault;
    later(latency, () => {
      if (closed) return;
      if (currentFault?.kind === 'reset') {
        log.outcome = 'reset';
        req.socket.destroy();
        return;
      }
      if (currentFault?.kind === 'error') {
        log.outcome = 'error';
        const status = currentFault.status ?? (currentFault.code === 'InternalFailure' ? 500 : 400);
        return send(res, errorAnswer(currentFault.code, currentFault.message ?? currentFault.code, status));
      }
      let answer: Answer;
      try {
        switch (operation) {
          case 'PutRecords':
            answer = putRecords(body, index, log);
            break;
          case 'ListShards':
            answer = listShards(body);
            break;
          case 'DescribeStreamSummary':
            answer = describeStreamSummary(body);
            break;
          default:
            throw new ClientError('UnknownOperationException', `The faulty Kinesis stub does not implement ${operation}`);
        }
      } catch (err) {
        if (operation === 'PutRecords') log.outcome = 'error';
        // A throw from a behaviour function is a bug in the test: answer 500 so it shows, never crash.
        answer =
          err instanceof ClientError
            ? errorAnswer(err.code, err.message, err.status)
            : errorAnswer('InternalFailure', `faulty Kinesis stub: ${(err as Error).message}`, 500);
      }
      send(res, answer);
    });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (closed) return;
      const raw = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/__stats') {
        return send(res, { status: 200, body: stats() });
      }
      if (req.method === 'POST' && path === '/__behaviour') {
        try {
          setBehaviour(JSON.parse(raw.toString('utf8')) as FaultBehaviour);
          return send(res, { status: 200, body: { ok: true } });
        } catch (err) {
          return send(res, errorAnswer('SerializationException', (err as Error).message, 400));
        }
      }
      handleKinesis(req, res, raw);
    });
  });
  // Node's 5 s default closes idle keep-alive sockets while a client may be reusing them (a spurious
  // ECONNRESET); resets must come only from the behaviour. close() destroys sockets anyway.
  server.keepAliveTimeout = 120000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createKinesisClient({ region: 'us-east-1', credentials: localCredentials(), ...options.client, endpoint });

  let closing: Promise<void> | undefined;
  return {
    endpoint,
    client,
    setBehaviour,
    accepted: (streamName) => (streamName === undefined ? accepted.slice() : accepted.filter((r) => r.streamName === streamName)),
    get requests() {
      return counters.requests;
    },
    get putRecordsRequests() {
      return putLog;
    },
    stats,
    shards: (streamName) => requireStream(streamName).shards.slice(),
    close: () =>
      (closing ??= (async () => {
        closed = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        client.destroy();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      })()),
  };
}
