/**
 * The e2e benchmark's Kinesis stub: a canned-response HTTP/1.1 server on loopback, run in its own
 * process (`node -r ts-node/register/transpile-only bench/e2e/stub.ts <shards>`), that
 *
 * - answers ListShards with N even shards (one page) and DescribeStreamSummary;
 * - answers every PutRecords entry OK, with the ShardId that owns the entry's hash key (the
 *   ExplicitHashKey when given, else md5 of the partition key) and a sequence number;
 * - counts user records: an aggregated entry (KPL magic) is checked (MD5) and its `records` field
 *   entries counted; any other entry counts one. A bad checksum counts as an error, not as records.
 *
 * Lean on purpose (no fault injection, nothing stored): it shares the 2 cores with the contender.
 * `GET /__stats` answers the counters, `POST /__reset` zeroes them. Prints `LISTENING <port>`.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const MAGIC = [0xf3, 0x89, 0x9a, 0xc2];
const TWO_128 = 1n << 128n;

export interface StubStats {
  requests: number;
  putRecordsRequests: number;
  kinesisRecords: number;
  aggregatedRecords: number;
  userRecords: number;
  /** Data bytes of user records (aggregated sub-records' data, or the raw entry's). */
  userBytes: number;
  badChecksums: number;
  /** Requests the stub could not parse (answered 500). */
  errors: number;
  /** The stub's own CPU seconds (user + system) since the last reset: what it takes of the second core. */
  cpuSeconds: number;
}

function zero(): StubStats {
  return { requests: 0, putRecordsRequests: 0, kinesisRecords: 0, aggregatedRecords: 0, userRecords: 0, userBytes: 0, badChecksums: 0, errors: 0, cpuSeconds: 0 };
}

function shardId(i: number): string {
  return `shardId-${String(i).padStart(12, '0')}`;
}

/** Reads a varint at `pos`; returns [value, new position]. Values here stay far below 2^53. */
function varint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos++];
    value += (b & 0x7f) * mul;
    if (b < 0x80) return [value, pos];
    mul *= 128;
  }
}

/** Counts the `records` (field 3) of an AggregatedRecord body and sums their data lengths. */
function countAggregated(buf: Uint8Array, start: number, end: number): { records: number; bytes: number } {
  let pos = start;
  let records = 0;
  let bytes = 0;
  while (pos < end) {
    const [tag, p] = varint(buf, pos);
    const [len, q] = varint(buf, p);
    if ((tag & 7) !== 2) throw new Error(`unexpected wire type in tag ${tag}`);
    if (tag >>> 3 === 3) {
      records++;
      // Inside a Record: find field 3 (data) to count its bytes.
      let r = q;
      const recEnd = q + len;
      while (r < recEnd) {
        const [t, r1] = varint(buf, r);
        if ((t & 7) === 0) r = varint(buf, r1)[1];
        else {
          const [l, r2] = varint(buf, r1);
          if (t >>> 3 === 3) bytes += l;
          r = r2 + l;
        }
      }
    }
    pos = q + len;
  }
  return { records, bytes };
}

export function startStub(shards: number, port = 0): Promise<http.Server> {
  let stats = zero();
  let cpuAtReset = process.cpuUsage();
  let sequence = 0;
  const step = TWO_128 / BigInt(shards);
  const shardIds = Array.from({ length: shards }, (_, i) => shardId(i));
  const listShardsBody = JSON.stringify({
    Shards: shardIds.map((id, i) => ({
      ShardId: id,
      HashKeyRange: {
        StartingHashKey: (BigInt(i) * step).toString(),
        EndingHashKey: (i === shards - 1 ? TWO_128 - 1n : BigInt(i + 1) * step - 1n).toString(),
      },
      SequenceNumberRange: { StartingSequenceNumber: `49${'0'.repeat(54)}` },
    })),
  });
  // Hash key → shard index, cached by text: 1,000 partition keys, and EHKs of first records.
  const byEhk = new Map<string, number>();
  const byPk = new Map<string, number>();
  const indexOf = (key: bigint): number => {
    const i = Number(key / step);
    return i < shards ? i : shards - 1;
  };
  const shardOf = (pk: string, ehk: string | undefined): number => {
    if (ehk !== undefined) {
      let i = byEhk.get(ehk);
      if (i === undefined) {
        i = indexOf(BigInt(ehk));
        if (byEhk.size < 100000) byEhk.set(ehk, i);
      }
      return i;
    }
    let i = byPk.get(pk);
    if (i === undefined) {
      i = indexOf(BigInt(`0x${createHash('md5').update(pk, 'utf8').digest('hex')}`));
      if (byPk.size < 100000) byPk.set(pk, i);
    }
    return i;
  };

  const putRecords = (body: { Records: { Data: string; PartitionKey: string; ExplicitHashKey?: string }[] }): string => {
    stats.putRecordsRequests++;
    const parts: string[] = [];
    for (const entry of body.Records) {
      stats.kinesisRecords++;
      const data = Buffer.from(entry.Data, 'base64');
      const n = data.length;
      if (n >= 20 && data[0] === MAGIC[0] && data[1] === MAGIC[1] && data[2] === MAGIC[2] && data[3] === MAGIC[3]) {
        const digest = createHash('md5').update(data.subarray(4, n - 16)).digest();
        if (digest.equals(data.subarray(n - 16))) {
          const counted = countAggregated(data, 4, n - 16);
          stats.aggregatedRecords++;
          stats.userRecords += counted.records;
          stats.userBytes += counted.bytes;
        } else {
          stats.badChecksums++;
        }
      } else {
        stats.userRecords++;
        stats.userBytes += n;
      }
      sequence++;
      parts.push(`{"SequenceNumber":"49${String(sequence).padStart(54, '0')}","ShardId":"${shardIds[shardOf(entry.PartitionKey, entry.ExplicitHashKey)]}"}`);
    }
    return `{"FailedRecordCount":0,"Records":[${parts.join(',')}]}`;
  };

  const server = http.createServer({ keepAliveTimeout: 600000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      if (req.url === '/__stats') {
        const cpu = process.cpuUsage(cpuAtReset);
        stats.cpuSeconds = (cpu.user + cpu.system) / 1e6;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
        return;
      }
      if (req.url === '/__reset') {
        stats = zero();
        cpuAtReset = process.cpuUsage();
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      stats.requests++;
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.slice(target.indexOf('.') + 1);
      let answer: string;
      let status = 200;
      try {
        const body = JSON.parse(raw.toString('utf8'));
        if (operation === 'PutRecords') answer = putRecords(body);
        else if (operation === 'ListShards') answer = listShardsBody;
        else if (operation === 'DescribeStreamSummary') {
          answer = JSON.stringify({
            StreamDescriptionSummary: {
              StreamName: body.StreamName,
              StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${body.StreamName}`,
              StreamStatus: 'ACTIVE',
              OpenShardCount: shards,
              RetentionPeriodHours: 24,
              StreamCreationTimestamp: 0,
              EnhancedMonitoring: [],
              ConsumerCount: 0,
            },
          });
        } else {
          status = 400;
          answer = JSON.stringify({ __type: 'UnknownOperationException', message: operation });
        }
      } catch (err) {
        stats.errors++;
        status = 500;
        answer = JSON.stringify({ __type: 'InternalFailure', message: String(err) });
      }
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': '0' }).end(answer);
    });
  });
  server.keepAliveTimeout = 600000;
  server.headersTimeout = 601000;
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (require.main === module) {
  const shards = Number(process.argv[2] ?? 256);
  void startStub(shards).then((server) => {
    process.stdout.write(`LISTENING ${(server.address() as AddressInfo).port}\n`);
    const stop = (): void => {
      server.close();
      server.closeAllConnections();
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    if (process.env['E2E_STUB_PARENT'] === '1') {
      // Spawned by run.ts, which holds stdin: its end means the parent is gone.
      process.stdin.on('end', stop);
      process.stdin.on('error', stop);
      process.stdin.resume();
    }
  });
}
