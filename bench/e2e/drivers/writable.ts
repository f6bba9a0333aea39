/**
 * Peer: aws-kinesis-writable 4.3 (SDK v2, no aggregation), pointed at the stub with its `endpoint`
 * option through an `AWS.Kinesis` we build (keep-alive agent, 64 sockets as our client's default),
 * buffer of 500 messages. It JSON-encodes each message: we write a 98-character string (partition
 * key + data as text) so each Kinesis record carries 100 bytes. It has no per-record results and
 * ignores per-record failures (it only retries whole-request errors), so a record counts as done
 * when its PutRecords answer comes back with a SequenceNumber for it.
 *
 * Not a dependency of rxkpl: install it with `npm install --no-save aws-kinesis-writable`, or point
 * `E2E_AKW_DIR` at a directory whose node_modules holds it. Missing, the driver reports it skipped.
 */
import http from 'node:http';
import { main, runDriver } from '../common';

function load(): { Writable: new (o: object) => NodeJS.WritableStream; AWS: { Kinesis: new (o: object) => KinesisV2 } } | undefined {
  const paths = [process.cwd(), ...(process.env['E2E_AKW_DIR'] ? [process.env['E2E_AKW_DIR']] : [])];
  try {
    const writablePath = require.resolve('aws-kinesis-writable', { paths });
    const sdkPath = require.resolve('aws-sdk', { paths: [writablePath] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { Writable: require(writablePath), AWS: require(sdkPath) };
  } catch {
    return undefined;
  }
}

interface KinesisV2 {
  putRecords(params: { StreamName: string; Records: { Data: string; PartitionKey: string }[] }, cb: (err: Error | null, data?: { Records: { SequenceNumber?: string }[] }) => void): unknown;
}

main(() =>
  runDriver('aws-kinesis-writable', async (workload, latencies) => {
    process.env['AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE'] = '1';
    const loaded = load();
    if (loaded === undefined) return { note: 'skipped: aws-kinesis-writable is not installed' };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const kinesis = new loaded.AWS.Kinesis({
      endpoint: workload.endpoint,
      region: 'us-east-1',
      accessKeyId: 'bench',
      secretAccessKey: 'bench',
      httpOptions: { agent },
      maxRetries: 0,
    });
    let pending = workload.records.length;
    let resolveAll: () => void = () => undefined;
    const allDone = new Promise<void>((resolve) => (resolveAll = resolve));
    const putRecords = kinesis.putRecords.bind(kinesis);
    kinesis.putRecords = (params, cb) =>
      putRecords(params, (err, data) => {
        const now = performance.now();
        params.Records.forEach((r, i) => {
          // Data is the JSON string `"<partition key><data>"`: the record's index is data's first 8 hex digits.
          const seq = parseInt(r.Data.slice(21, 29), 16);
          latencies.done(seq, now, !err && data?.Records[i]?.SequenceNumber !== undefined);
        });
        pending -= params.Records.length;
        if (pending === 0) resolveAll();
        cb(err, data);
      });
    const stream = new loaded.Writable({
      streamName: workload.streamName,
      kinesis,
      objectMode: true,
      partitionKey: (msg: string) => msg.slice(0, 20),
      buffer: { timeout: 0.1, length: 500 },
    });
    stream.on('error', () => undefined); // failures are counted from the answers above
    const text = Buffer.from(workload.records[0].data.buffer).toString('latin1');
    const bytes = workload.bytes;
    for (let i = 0; i < workload.records.length; i++) {
      const r = workload.records[i];
      latencies.put(r.seq, performance.now());
      const off = r.data.byteOffset;
      stream.write(JSON.stringify(r.partitionKey + text.slice(off, off + bytes - 22)));
      if (i % 500 === 499) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await allDone;
    agent.destroy();
    return { note: 'SDK v2, no aggregation, per-record failures dropped' };
  }),
);
