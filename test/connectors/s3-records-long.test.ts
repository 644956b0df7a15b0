/**
 * Records far longer than a read chunk (a 30 MB log line, a CSV row with a multi-megabyte
 * quoted field): found, and joined once, not once per chunk. The join is counted through
 * Buffer.concat, the one place a pending record's chunks are put together, so the test fails
 * for a scan whose copying grows with the square of the record's length.
 */
import { processRecords } from '../../functions/connectors/s3-records-stream';
import { RecordMatcher, type RecordFieldSpec } from '../../functions/core/matching';

const PHONE = '+16135550123';
const FIELDS: RecordFieldSpec[] = [{ path: 'from', identifier: 'phone', match: 'token' }];
const CHUNK = 64 * 1024;

function inChunks(buf: Buffer): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let i = 0; i < buf.length; i += CHUNK) yield new Uint8Array(buf.subarray(i, i + CHUNK));
  })();
}

async function scanCountingCopies(body: Buffer, format: 'jsonl' | 'csv') {
  const matcher = new RecordMatcher(FIELDS, new Map([['s', { phone: [PHONE] }]]), format);
  const concat = Buffer.concat;
  let copied = 0;
  const spy = jest.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], total?: number) => {
    const out = concat(list, total);
    copied += out.length;
    return out;
  });
  try {
    let matched = 0;
    const counts = await processRecords(inChunks(body), { format, compression: 'none', matcher, wholeObjectBytes: 0 }, (r) => {
      if (r.matches.has('s')) matched++;
    });
    return { counts, matched, copied };
  } finally {
    spy.mockRestore();
  }
}

test('a 30 MB JSON line is matched, and its bytes are joined about once', async () => {
  const filler = 'x'.repeat(30 * 1024 * 1024);
  const body = Buffer.from(`{"from":"+1555"}\n{"from":"${PHONE}","note":"${filler}"}\n{"from":"+1666"}\n`);
  const { counts, matched, copied } = await scanCountingCopies(body, 'jsonl');
  expect(counts).toMatchObject({ records: 3, matched: 1, malformed: 0, bytes: body.length });
  expect(matched).toBe(1);
  // Joined once per chunk, the line would be copied ~480 times over (7 GB).
  expect(copied).toBeLessThan(2 * body.length);
}, 60_000);

test('a CSV row whose quoted field is longer than the framing cap is one well-formed record, matched', async () => {
  const filler = 'y'.repeat(8 * 1024 * 1024);
  const body = Buffer.from(`ts,from,note\n2026-10-01,+1555,a\n2026-10-01,${PHONE},"${filler}"\n2026-10-01,+1666,b\n`);
  const { counts, matched, copied } = await scanCountingCopies(body, 'csv');
  expect(counts).toMatchObject({ records: 3, matched: 1, malformed: 0 });
  expect(matched).toBe(1);
  expect(copied).toBeLessThan(4 * body.length);
}, 60_000);
