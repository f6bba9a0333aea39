/**
 * A reference KPL aggregation codec on protobufjs, for tests only: the schema is parsed from the
 * proto2 text of kpl.md §2 with `keepCase: true`. (`Root.fromJSON` of aws-kinesis-agg's kpl.json
 * is read as proto3 by protobufjs 8 and drops `explicit_hash_key_index: 0`, node-testing.md §3.)
 */
import * as crypto from 'node:crypto';
import * as protobuf from 'protobufjs';

const KPL_PROTO = `
syntax = "proto2";
message AggregatedRecord {
  repeated string partition_key_table = 1;
  repeated string explicit_hash_key_table = 2;
  repeated Record records = 3;
}
message Tag {
  required string key = 1;
  optional string value = 2;
}
message Record {
  required uint64 partition_key_index = 1;
  optional uint64 explicit_hash_key_index = 2;
  required bytes data = 3;
  repeated Tag tags = 4;
}
`;

const root = protobuf.parse(KPL_PROTO, { keepCase: true }).root;
export const AggregatedRecordType = root.lookupType('AggregatedRecord');

const MAGIC = Buffer.from('f3899ac2', 'hex');

export interface ReferenceRecord {
  partitionKey: string;
  explicitHashKey?: string;
  data: Uint8Array | string;
}

export interface ProtoTag {
  key: string;
  value?: string;
}

export interface ProtoRecord {
  partition_key_index: number;
  explicit_hash_key_index?: number;
  data: Uint8Array;
  tags?: ProtoTag[];
}

export interface ProtoAggregatedRecord {
  partition_key_table: string[];
  explicit_hash_key_table: string[];
  records: ProtoRecord[];
}

/** Frames protobuf bytes as the KPL does: magic + bytes + md5(bytes). */
export function frame(protobufBytes: Uint8Array): Buffer {
  const digest = crypto.createHash('md5').update(protobufBytes).digest();
  return Buffer.concat([MAGIC, protobufBytes, digest]);
}

/** The protobuf message for records, with KPL key tables: de-duplicated in first-seen order (kpl.md §2). */
export function referenceMessage(records: readonly ReferenceRecord[]): ProtoAggregatedRecord {
  const pk = new Map<string, number>();
  const ehk = new Map<string, number>();
  const out: ProtoRecord[] = records.map((r) => {
    if (!pk.has(r.partitionKey)) pk.set(r.partitionKey, pk.size);
    const rec: ProtoRecord = {
      partition_key_index: pk.get(r.partitionKey) as number,
      data: typeof r.data === 'string' ? Buffer.from(r.data, 'utf8') : r.data,
    };
    if (r.explicitHashKey !== undefined) {
      if (!ehk.has(r.explicitHashKey)) ehk.set(r.explicitHashKey, ehk.size);
      rec.explicit_hash_key_index = ehk.get(r.explicitHashKey);
    }
    return rec;
  });
  return { partition_key_table: [...pk.keys()], explicit_hash_key_table: [...ehk.keys()], records: out };
}

/** Encodes a message with protobufjs, without magic or checksum. */
export function encodeMessage(message: ProtoAggregatedRecord): Uint8Array {
  return AggregatedRecordType.encode(AggregatedRecordType.fromObject(message)).finish();
}

/** The aggregated blob protobufjs builds for records (the bytes ours must equal). */
export function referenceEncode(records: readonly ReferenceRecord[]): Buffer {
  return frame(encodeMessage(referenceMessage(records)));
}

/** Decodes the protobuf part of a blob with protobufjs; field presence is kept (`'explicit_hash_key_index' in r`). */
export function referenceDecode(blob: Uint8Array): ProtoAggregatedRecord {
  const message = AggregatedRecordType.decode(blob.subarray(4, blob.length - 16));
  return AggregatedRecordType.toObject(message, { longs: Number, arrays: true }) as unknown as ProtoAggregatedRecord;
}
