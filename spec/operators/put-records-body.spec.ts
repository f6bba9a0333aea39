/**
 * The native-base64 PutRecords body (lib/operators/internal/put-records-body.ts) against the real
 * SDK client: every request is captured by a request handler that answers a canned PutRecords
 * response in process (nothing leaves the process), once sent as the SDK serializes it alone and
 * once with our body, at a fixed clock and invocation id, so the two must be equal byte for byte —
 * body, content-length and the SigV4 signature over it.
 *
 * These tests are the alarm for the SDK internals the fast body relies on (the module comment lists
 * them): if a future SDK changes them, either the bodies differ here or the "fast path is taken"
 * probe fails — never a silent wrong body.
 */
import { KinesisClient, PutRecordsCommand, type PutRecordsCommandInput, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { lastValueFrom, of, toArray } from 'rxjs';
import { putRecords } from '../../lib/operators/put-records';
import { spliceBase64Data, withNativeBase64Body } from '../../lib/operators/internal/put-records-body';
import { batchOf, bufferedRecord, kinesisRecord } from '../helpers/retrier-builders';

interface CapturedRequest {
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
  readonly path: string;
  readonly hostname: string;
}

type Middleware = (next: (args: { input: object; request?: unknown }) => Promise<unknown>) => (args: { input: object; request?: unknown }) => Promise<unknown>;

/** A real KinesisClient whose transport records each request and answers every entry with success. */
function capturingClient(): { client: KinesisClient; requests: CapturedRequest[] } {
  const requests: CapturedRequest[] = [];
  const requestHandler = {
    handle: async (request: { headers: Record<string, string>; body: unknown; path: string; hostname: string }) => {
      const body = request.body;
      if (!(body instanceof Uint8Array) && typeof body !== 'string') throw new Error(`unexpected body type ${typeof body}`);
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Uint8Array.from(body); // a copy: the SDK's may be reused
      requests.push({ headers: { ...request.headers }, body: bytes, path: request.path, hostname: request.hostname });
      const n = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { Records: unknown[] }).Records.length;
      const answer = { FailedRecordCount: 0, Records: Array.from({ length: n }, (_, i) => ({ ShardId: 'shardId-000000000000', SequenceNumber: String(i) })) };
      return {
        response: {
          statusCode: 200,
          reason: 'OK',
          headers: { 'content-type': 'application/x-amz-json-1.1' },
          body: Readable.from([Buffer.from(JSON.stringify(answer))]),
        },
      };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
  const client = new KinesisClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:4567',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    requestHandler: requestHandler as unknown as KinesisClient['config']['requestHandler'],
    maxAttempts: 1,
  });
  return { client, requests };
}

/** Sends `input` twice on fresh clients — the SDK alone, then with our body — and returns both captured requests. */
async function sendBoth(input: PutRecordsCommandInput, clientMiddleware?: Middleware): Promise<{ sdk: CapturedRequest; fast: CapturedRequest }> {
  const run = async (fast: boolean): Promise<CapturedRequest> => {
    const { client, requests } = capturingClient();
    if (clientMiddleware !== undefined) {
      client.middlewareStack.addRelativeTo(clientMiddleware as never, { relation: 'after', toMiddleware: 'serializerMiddleware', name: 'testMiddleware' });
    }
    const command = new PutRecordsCommand(input);
    await client.send(fast ? withNativeBase64Body(command) : command);
    client.destroy();
    expect(requests).toHaveLength(1);
    return requests[0];
  };
  return { sdk: await run(false), fast: await run(true) };
}

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function expectSameRequest(sdk: CapturedRequest, fast: CapturedRequest): void {
  expect(Buffer.from(fast.body).equals(Buffer.from(sdk.body))).toBe(true);
  expect(fast.headers['content-length']).toBe(String(fast.body.length));
  expect(fast.headers['authorization']).toMatch(/Signature=[0-9a-f]{64}$/);
  expect(fast.headers).toEqual(sdk.headers); // includes authorization: the signature covers our body
  expect(fast.path).toBe(sdk.path);
  expect(fast.hostname).toBe(sdk.hostname);
}

/** The SDK's serialized body (before our splice), seen by a probe placed right after `serializerMiddleware`. */
function probe(): { middleware: Middleware; sizes: number[] } {
  const sizes: number[] = [];
  const middleware: Middleware = (next) => async (args) => {
    const body = (args.request as { body?: Uint8Array | string } | undefined)?.body;
    sizes.push(typeof body === 'string' ? Buffer.byteLength(body) : (body?.length ?? -1));
    return next(args);
  };
  return { middleware, sizes };
}

describe('PutRecords body with native base64', () => {
  beforeEach(() => {
    // A fixed clock and invocation id, so two sends of the same body sign to the same signature.
    jest.spyOn(Date, 'now').mockReturnValue(Date.UTC(2024, 0, 2, 3, 4, 5));
    jest.spyOn(globalThis.crypto, 'randomUUID').mockReturnValue('00000000-0000-4000-8000-000000000000');
  });
  afterEach(() => jest.restoreAllMocks());

  const cases: [string, PutRecordsCommandInput][] = [
    ['ASCII keys, with ExplicitHashKey', {
      StreamName: 'clicks',
      Records: [
        { Data: bytes(100), PartitionKey: 'partition-key-000001', ExplicitHashKey: '170141183460469231731687303715884105728' },
        { Data: bytes(101, 2), PartitionKey: 'a', ExplicitHashKey: '0' },
        { Data: bytes(102, 3), PartitionKey: 'b', ExplicitHashKey: '340282366920938463463374607431768211455' },
      ],
    }],
    ['without ExplicitHashKey', { StreamName: 's', Records: [{ Data: bytes(10), PartitionKey: 'k1' }, { Data: bytes(11), PartitionKey: 'k2' }] }],
    ['non-ASCII and escaped partition keys', {
      StreamName: 'strom-ü',
      Records: [
        { Data: bytes(5), PartitionKey: 'quote " and backslash \\ and slash /' },
        { Data: bytes(6), PartitionKey: 'controls \u0000\u0001\b\t\n\f\r\u001f\u007f end' },
        { Data: bytes(7), PartitionKey: 'emoji 😀 and ü é 中文 \u2028\u2029' },
        { Data: bytes(8), PartitionKey: '"Data":""', ExplicitHashKey: '5' },
        { Data: bytes(9), PartitionKey: '{"Data":"","x":"\\"' },
      ],
    }],
    ['empty data', { StreamName: 's', Records: [{ Data: new Uint8Array(0), PartitionKey: 'k' }, { Data: bytes(1), PartitionKey: 'k' }, { Data: new Uint8Array(0), PartitionKey: 'k' }] }],
    ['every base64 padding (lengths 1 … 6)', { StreamName: 's', Records: [1, 2, 3, 4, 5, 6].map((n) => ({ Data: bytes(n, n), PartitionKey: `k${n}` })) }],
    ['1 MiB data', { StreamName: 's', Records: [{ Data: bytes(1048576), PartitionKey: 'big', ExplicitHashKey: '42' }] }],
    ['a view into a larger buffer', { StreamName: 's', Records: [{ Data: bytes(1000).subarray(17, 530), PartitionKey: 'view' }] }],
    ['StreamARN instead of StreamName', {
      StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/clicks',
      Records: [{ Data: bytes(20), PartitionKey: 'k', ExplicitHashKey: '7' }],
    }],
    ['500 entries', {
      StreamName: 'bench',
      Records: Array.from({ length: 500 }, (_, i): PutRecordsRequestEntry => ({ Data: bytes(1000 + i, i), PartitionKey: `partition-key-${i}`, ExplicitHashKey: String(i * 7919) })),
    }],
  ];

  it.each(cases)('is byte for byte the SDK request: %s', async (_, input) => {
    const { middleware, sizes } = probe();
    const { sdk, fast } = await sendBoth(input, middleware);
    expectSameRequest(sdk, fast);
    // The fast path was taken: the SDK serialized each Data as "" (no base64 in its buffer).
    const base64 = (input.Records ?? []).reduce((sum, r) => sum + Math.ceil((r.Data?.length ?? 0) / 3) * 4, 0);
    expect(sizes).toEqual([sdk.body.length, fast.body.length - base64]);
  });

  it('sends the same body and signature through the putRecords operator, by the fast path', async () => {
    const { client, requests } = capturingClient();
    const { middleware, sizes } = probe();
    client.middlewareStack.addRelativeTo(middleware as never, { relation: 'after', toMiddleware: 'serializerMiddleware', name: 'probe' });
    const batch = batchOf(
      [kinesisRecord([bufferedRecord({ key: 7n, name: 'pk "ü"', data: bytes(300) })]), kinesisRecord([bufferedRecord({ key: 8n }), bufferedRecord({ key: 9n })])],
      'clicks',
    );
    const outcomes = await lastValueFrom(of(batch).pipe(putRecords(client), toArray()));
    client.destroy();
    expect(outcomes.map((o) => o.kind)).toEqual(['answered']);
    const input: PutRecordsCommandInput = {
      StreamName: 'clicks',
      Records: batch.records.map((kr) => ({ Data: kr.data, PartitionKey: kr.partitionKey, ExplicitHashKey: kr.explicitHashKey })),
    };
    const { sdk } = await sendBoth(input);
    expectSameRequest(sdk, requests[0]);
    // The operator's command took the native path: the SDK serialized every Data as "".
    const base64 = batch.records.reduce((sum, kr) => sum + Math.ceil(kr.data.length / 3) * 4, 0);
    expect(sizes).toEqual([requests[0].body.length - base64]);
  });

  it('leaves the command input untouched (the SDK strips a copy)', async () => {
    const data = bytes(30);
    const input: PutRecordsCommandInput = { StreamName: 's', Records: [{ Data: data, PartitionKey: 'k' }] };
    const { client } = capturingClient();
    const command = withNativeBase64Body(new PutRecordsCommand(input));
    await client.send(command);
    client.destroy();
    expect(command.input).toBe(input);
    expect(input.Records?.[0].Data).toBe(data);
  });

  it('falls back to the SDK body when the serialized request is not the expected shape', async () => {
    // A middleware that pretty-prints the body after the SDK's serializer: no `"Data":""` to fill.
    const pretty: Middleware = (next) => async (args) => {
      const request = args.request as { body: Uint8Array | string };
      const json = typeof request.body === 'string' ? request.body : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.length).toString('utf8');
      request.body = JSON.stringify(JSON.parse(json), null, 1);
      return next(args);
    };
    const input: PutRecordsCommandInput = { StreamName: 's', Records: [{ Data: bytes(300), PartitionKey: 'k' }, { Data: bytes(3), PartitionKey: 'j' }] };
    const { sdk, fast } = await sendBoth(input, pretty);
    expect(JSON.parse(Buffer.from(fast.body).toString('utf8'))).toEqual({
      Records: [
        { Data: Buffer.from(bytes(300)).toString('base64'), PartitionKey: 'k' },
        { Data: Buffer.from(bytes(3)).toString('base64'), PartitionKey: 'j' },
      ],
      StreamName: 's',
    });
    expectSameRequest(sdk, fast);
  });

  it('falls back to the SDK body when a header derived from the body is already set', async () => {
    // SigV4 takes a present x-amz-content-sha256 as the payload hash: set over the skeleton, it must not survive.
    const digest: Middleware = (next) => async (args) => {
      const request = args.request as { body: Uint8Array; headers: Record<string, string> };
      request.headers['x-amz-content-sha256'] = createHash('sha256').update(request.body).digest('hex');
      return next(args);
    };
    const input: PutRecordsCommandInput = { StreamName: 's', Records: [{ Data: bytes(3000), PartitionKey: 'k' }] };
    const { sdk, fast } = await sendBoth(input, digest);
    expect(fast.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(fast.body).digest('hex'));
    expectSameRequest(sdk, fast);
  });

  it('falls back to the SDK body when a middleware replaced the stripped input by a copy', async () => {
    const input: PutRecordsCommandInput = { StreamName: 's', Records: [{ Data: bytes(40), PartitionKey: 'k' }] };
    const run = async (fast: boolean): Promise<CapturedRequest> => {
      const { client, requests } = capturingClient();
      const copyInput: Middleware = (next) => (args) => next({ ...args, input: { ...args.input } });
      client.middlewareStack.add(copyInput as never, { step: 'serialize', name: 'copyInput' });
      const command = new PutRecordsCommand(input);
      await client.send(fast ? withNativeBase64Body(command) : command);
      client.destroy();
      return requests[0];
    };
    expectSameRequest(await run(false), await run(true));
  });

  it('leaves a request it cannot encode (string Data) to the SDK', async () => {
    const input = { StreamName: 's', Records: [{ Data: 'text data' as unknown as Uint8Array, PartitionKey: 'k' }] };
    const { middleware, sizes } = probe();
    const { sdk, fast } = await sendBoth(input, middleware);
    expectSameRequest(sdk, fast);
    expect(sizes).toEqual([sdk.body.length, fast.body.length]);
  });

  it('passes SDK errors through unchanged', async () => {
    const { client } = capturingClient();
    const failing: Middleware = () => () => Promise.reject(Object.assign(new Error('boom'), { name: 'SerializationError' }));
    client.middlewareStack.add(failing as never, { step: 'build', name: 'failing' });
    await expect(client.send(withNativeBase64Body(new PutRecordsCommand({ StreamName: 's', Records: [{ Data: bytes(3), PartitionKey: 'k' }] })))).rejects.toMatchObject({
      name: 'SerializationError',
    });
    client.destroy();
  });
});

describe('spliceBase64Data', () => {
  const skeleton = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

  it('writes each entry base64 into its empty Data member, in order', () => {
    const body = spliceBase64Data(skeleton('{"Records":[{"Data":"","PartitionKey":"a"},{"Data":"","PartitionKey":"b"}],"StreamName":"s"}'), [
      Buffer.from('hi'),
      Buffer.from('there'),
    ]);
    expect(body?.toString('utf8')).toBe('{"Records":[{"Data":"aGk=","PartitionKey":"a"},{"Data":"dGhlcmU=","PartitionKey":"b"}],"StreamName":"s"}');
  });

  it.each([
    ['fewer Data members than entries', '{"Records":[{"Data":"","PartitionKey":"a"}]}', 2],
    ['more Data members than entries', '{"Records":[{"Data":""},{"Data":""}]}', 1],
    ['a Data member with whitespace', '{"Records":[{"Data": ""}]}', 1],
    ['a Data member not at a structural position', '{"Records":[{"PartitionKey":"x\\"Data":""}]}', 1],
    ['a non-empty Data member', '{"Records":[{"Data":"AAAA"}]}', 1],
  ])('refuses %s', (_, json, n) => {
    expect(spliceBase64Data(skeleton(json), Array.from({ length: n }, () => Buffer.from('x')))).toBeUndefined();
  });
});
