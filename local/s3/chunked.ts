import { Transform, type TransformCallback } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import { errors } from './errors';

/**
 * True when the body uses AWS's chunked framing (SDK v3 does by default for streaming bodies,
 * with a trailing checksum), signed or unsigned. The HTTP-level chunked transfer encoding is
 * already undone by node:http; this is a second framing inside the body.
 */
export function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  const sha = String(headers['x-amz-content-sha256'] ?? '');
  if (sha.startsWith('STREAMING-')) return true;
  return String(headers['content-encoding'] ?? '')
    .split(',')
    .some((e) => e.trim().toLowerCase() === 'aws-chunked');
}

/** Content-Encoding as the object should keep it: aws-chunked is transport framing, not content. */
export function storedContentEncoding(headers: IncomingHttpHeaders): string | undefined {
  const kept = String(headers['content-encoding'] ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e.toLowerCase() !== 'aws-chunked');
  return kept.length ? kept.join(',') : undefined;
}

const MAX_LINE = 8192;
type State = 'size' | 'data' | 'crlf' | 'trailer' | 'done';

/**
 * Streaming decoder for `<hex>[;chunk-signature=…]\r\n<data>\r\n … 0\r\n[trailers]\r\n`.
 * Data is passed on as slices of the incoming buffers, so a 1 GB body is never held whole.
 * Chunk and trailer signatures are not verified: this endpoint does not check credentials.
 */
export class AwsChunkedDecoder extends Transform {
  readonly trailers: Record<string, string> = {};
  private state: State = 'size';
  private line = '';
  private remaining = 0;
  private crlfSeen = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    // The SDK ends an unsigned body without a checksum right after "0\r\n", with no blank line.
    if (this.state === 'done' || (this.state === 'trailer' && this.line === '')) done();
    else done(errors.incompleteBody());
  }

  private consume(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.remaining, buf.length - pos);
          this.push(buf.subarray(pos, pos + n));
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = 'crlf';
          break;
        }
        case 'crlf': {
          const expected = this.crlfSeen === 0 ? 0x0d : 0x0a;
          if (buf[pos] !== expected) throw framingError();
          pos += 1;
          this.crlfSeen += 1;
          if (this.crlfSeen === 2) {
            this.crlfSeen = 0;
            this.state = 'size';
          }
          break;
        }
        case 'size':
        case 'trailer': {
          const nl = buf.indexOf(0x0a, pos);
          const end = nl === -1 ? buf.length : nl;
          this.line += buf.toString('latin1', pos, end);
          if (this.line.length > MAX_LINE) throw framingError();
          pos = end;
          if (nl === -1) break;
          pos += 1;
          const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
          this.line = '';
          this.onLine(line);
          break;
        }
        case 'done':
          // Anything after the final blank line is not part of the payload.
          return;
      }
    }
  }

  private onLine(line: string): void {
    if (this.state === 'size') {
      const hex = line.split(';', 1)[0].trim();
      if (!/^[0-9a-fA-F]+$/.test(hex)) throw framingError();
      const size = parseInt(hex, 16);
      if (size === 0) this.state = 'trailer';
      else {
        this.remaining = size;
        this.state = 'data';
      }
      return;
    }
    if (line === '') {
      this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw framingError();
    this.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
}

function framingError() {
  return errors.invalidRequest('The aws-chunked request body is not correctly framed.');
}
