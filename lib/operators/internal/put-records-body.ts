/**
 * The PutRecords request body with Node's native base64, on any real `KinesisClient`.
 *
 * Why: the SDK's JSON serializer (`@smithy/core` protocols, `JsonShapeSerializer2#writeBase64`)
 * encodes every `Data` blob to base64 in JavaScript, byte by byte (≈ 170 MB/s on the bench
 * machine, against > 1 GB/s for `Buffer#toString('base64')`), into an output buffer that grows by
 * doubling from 2 KiB (≈ 16 MB of garbage per 5 MiB request). Per aggregated record this was the
 * largest single cost of sending (issue 9), and the transient buffers fed the Writable's RSS (issue 8).
 *
 * How, without touching the user's client (its config, credentials, middleware stay as given): two
 * middlewares on the command instance only.
 * 1. `serialize` step, priority `high` (before the SDK's `serializerMiddleware`): replaces every
 *    entry's `Data` with an empty array in a copy of the input, so the SDK serializes the request —
 *    member order, escaping of PartitionKey / ExplicitHashKey / StreamName / StreamARN, endpoint,
 *    headers — with `"Data":""` for each entry, and almost no bytes.
 * 2. `serialize` step, priority `low` (after `serializerMiddleware`, before the `build` step's
 *    `contentLengthMiddleware` and the `finalizeRequest` step's `httpSigningMiddleware`, so the
 *    length and the SigV4 payload hash are computed over our body): writes the real base64 into
 *    that skeleton, giving an exact-size Buffer, byte for byte what the SDK would have sent.
 *    (The client's own `serialize`-step middleware sees the copy with empty `Data` in between;
 *    `initialize`, `build`, `finalizeRequest` and `deserialize` middleware see the real thing.)
 *
 * What we rely on in the SDK, and what happens if it changes (spec/operators/put-records-body.spec.ts
 * fails loudly on each): serialization happens in the `serialize` step and leaves `request.body` as
 * bytes or a string; an empty blob is written `"Data":""`, once per entry, in order, without
 * whitespace; nothing in the `serialize` step sets a header derived from the body (content-length,
 * a digest: SigV4 would use a present `x-amz-content-sha256` as the payload hash). When the
 * skeleton is not exactly that (or the stripped input was replaced on the way), step 2 throws a
 * private sentinel before anything is sent and step 1 re-runs the rest of the chain with the
 * original input: the SDK's own serialization. A request never leaves with stripped data.
 */
import type { PutRecordsCommand } from '@aws-sdk/client-kinesis';

/** What every entry's `Data` is replaced with before the SDK serializes (identity marks a stripped input). */
const STRIPPED = new Uint8Array(0);
/** An empty blob member as the SDK writes it. Only ever structural: inside a JSON string every `"` is escaped. */
const EMPTY_DATA_MEMBER = Buffer.from('"Data":""', 'latin1');
/** Headers computed from the body (length, digests): set before our body is in place, they would not match it. */
const BODY_DERIVED_HEADER = /^(content-length|content-md5|x-amz-content-sha256|x-amz-checksum-.*)$/i;
const OPEN_BRACE = 0x7b;
const COMMA = 0x2c;

/** Stripped input → the original `Data` of its entries, in order. Keyed by the per-send input object. */
const stripped = new WeakMap<object, readonly Uint8Array[]>();

/** Thrown by step 2 when the serialized request is not the expected shape; caught by step 1 only. */
class UnexpectedSerialization extends Error {}

type Handler<A, R> = (args: A) => Promise<R>;

interface EntryLike {
  readonly Data?: unknown;
}

/**
 * Makes `command` send its body with native base64 (see the module comment); returns it. On a
 * client that never resolves the command's middleware (a test double) this changes nothing.
 */
export function withNativeBase64Body(command: PutRecordsCommand): PutRecordsCommand {
  command.middlewareStack.add(stripData, { step: 'serialize', priority: 'high', name: 'rxkplStripDataMiddleware' });
  command.middlewareStack.add(writeBase64Data, { step: 'serialize', priority: 'low', name: 'rxkplNativeBase64BodyMiddleware' });
  return command;
}

function stripData<A extends { readonly input: object }, R>(next: Handler<A, R>): Handler<A, R> {
  return async (args) => {
    const records = (args.input as { readonly Records?: unknown }).Records;
    const data = dataOf(records);
    if (data === undefined) return next(args);
    const input = { ...args.input, Records: (records as readonly EntryLike[]).map((entry) => ({ ...entry, Data: STRIPPED })) };
    stripped.set(input, data);
    try {
      return await next({ ...args, input });
    } catch (err) {
      if (!(err instanceof UnexpectedSerialization)) throw err;
      // Nothing was sent: the SDK serializes the original input itself.
      return next(args);
    }
  };
}

function writeBase64Data<A extends { readonly input: object; readonly request?: unknown }, R>(next: Handler<A, R>): Handler<A, R> {
  return async (args) => {
    const data = stripped.get(args.input);
    if (data === undefined) {
      // Not ours, or the SDK's own serialization after a fallback — unless a middleware replaced
      // our stripped input by a copy: then the body holds empty data and must not leave.
      if (isStripped(args.input)) throw new UnexpectedSerialization();
      return next(args);
    }
    stripped.delete(args.input);
    const request = args.request as { body?: unknown; headers?: unknown } | undefined;
    if (typeof request !== 'object' || request === null || typeof request.headers !== 'object' || request.headers === null) {
      throw new UnexpectedSerialization();
    }
    if (Object.keys(request.headers).some((name) => BODY_DERIVED_HEADER.test(name))) throw new UnexpectedSerialization();
    const skeleton = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
    const body = skeleton instanceof Uint8Array ? spliceBase64Data(skeleton, data) : undefined;
    if (body === undefined) throw new UnexpectedSerialization();
    request.body = body;
    return next(args);
  };
}

/** Every entry's `Data` when all are bytes (the only case we encode); else `undefined`. */
function dataOf(records: unknown): Uint8Array[] | undefined {
  if (!Array.isArray(records) || records.length === 0) return undefined;
  const data = new Array<Uint8Array>(records.length);
  for (let i = 0; i < records.length; i++) {
    const entry = records[i] as EntryLike | null;
    if (typeof entry !== 'object' || entry === null || !(entry.Data instanceof Uint8Array)) return undefined;
    data[i] = entry.Data;
  }
  return data;
}

function isStripped(input: object): boolean {
  const records = (input as { readonly Records?: unknown }).Records;
  return Array.isArray(records) && records.some((entry: EntryLike | null) => entry?.Data === STRIPPED);
}

/**
 * The SDK's body for the stripped input (`skeleton`, one `"Data":""` per entry) with each entry's
 * base64 written between those quotes: exact size, one copy of each byte. `undefined` when the
 * skeleton does not hold exactly `data.length` empty Data members at structural positions.
 */
export function spliceBase64Data(skeleton: Uint8Array, data: readonly Uint8Array[]): Buffer | undefined {
  const json = Buffer.from(skeleton.buffer, skeleton.byteOffset, skeleton.byteLength);
  // Where each entry's base64 goes: the index of the closing quote of its `"Data":""`.
  const at = new Array<number>(data.length);
  let size = json.length;
  let from = 0;
  for (let i = 0; i < data.length; i++) {
    const found = json.indexOf(EMPTY_DATA_MEMBER, from);
    if (found <= 0 || (json[found - 1] !== OPEN_BRACE && json[found - 1] !== COMMA)) return undefined;
    at[i] = found + EMPTY_DATA_MEMBER.length - 1;
    from = found + EMPTY_DATA_MEMBER.length;
    size += Math.ceil(data[i].length / 3) * 4;
  }
  if (json.indexOf(EMPTY_DATA_MEMBER, from) >= 0) return undefined;
  const body = Buffer.allocUnsafe(size);
  let read = 0;
  let written = 0;
  for (let i = 0; i < data.length; i++) {
    written += json.copy(body, written, read, at[i]);
    read = at[i];
    const d = data[i];
    written += body.write(Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64'), written, 'latin1');
  }
  written += json.copy(body, written, read);
  return written === size ? body : undefined;
}
