import type { Readable } from 'node:stream';

/** One part of a multipart/form-data body as it starts: its name, file name and content type. */
export interface PartHead {
  name: string;
  fileName?: string;
  contentType?: string;
}

export interface PartSink {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
}

/** The largest header block and non-file field the parser keeps (a file part streams to its sink). */
const MAX_HEAD_BYTES = 16 * 1024;
const MAX_FIELD_BYTES = 64 * 1024;

export class MultipartError extends Error {}

function parseHead(text: string): PartHead {
  const head: PartHead = { name: '' };
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'content-type') head.contentType = value;
    if (key !== 'content-disposition') continue;
    for (const match of value.matchAll(/;\s*(name|filename)="((?:[^"\\]|\\.)*)"/gi)) {
      const decoded = match[2]!.replace(/\\(.)/g, '$1').replace(/%22/g, '"');
      if (match[1]!.toLowerCase() === 'name') head.name = decoded;
      else head.fileName = decoded;
    }
  }
  return head;
}

/**
 * A streaming multipart/form-data reader (RFC 7578): text fields are returned, each file part goes to the
 * sink `openFile` gives, as it arrives, with backpressure. Only a delimiter's length of the body is held
 * back at any time, so an upload of any size takes a bounded amount of memory.
 */
export async function readMultipart(body: Readable, boundary: string, openFile: (head: PartHead) => PartSink): Promise<Record<string, string>> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const fields: Record<string, string> = {};
  // The body starts with `--boundary`, without the line break every later delimiter has.
  let buffer: Buffer = Buffer.from('\r\n');
  let phase = 'preamble' as 'preamble' | 'after-delimiter' | 'head' | 'content' | 'done';
  let head: PartHead | undefined;
  let sink: PartSink | undefined;
  let field: Buffer[] = [];
  let fieldBytes = 0;

  const emit = async (data: Buffer): Promise<void> => {
    if (data.length === 0) return;
    if (sink) {
      await sink.write(data);
      return;
    }
    fieldBytes += data.length;
    if (fieldBytes > MAX_FIELD_BYTES) throw new MultipartError(`form field "${head?.name ?? ''}" is longer than ${MAX_FIELD_BYTES} bytes`);
    field.push(data);
  };
  const endPart = async (): Promise<void> => {
    if (sink) await sink.end();
    else if (head) fields[head.name] = Buffer.concat(field).toString('utf8');
    sink = undefined;
    head = undefined;
    field = [];
    fieldBytes = 0;
  };

  const step = async (): Promise<boolean> => {
    if (phase === 'preamble' || phase === 'content') {
      const at = buffer.indexOf(delimiter);
      if (at < 0) {
        // Everything but a possible start of the delimiter is content.
        const safe = Math.max(0, buffer.length - delimiter.length + 1);
        if (phase === 'content') await emit(buffer.subarray(0, safe));
        buffer = buffer.subarray(safe);
        return false;
      }
      if (phase === 'content') {
        await emit(buffer.subarray(0, at));
        await endPart();
      }
      buffer = buffer.subarray(at + delimiter.length);
      phase = 'after-delimiter';
      return true;
    }
    if (phase === 'after-delimiter') {
      if (buffer.length < 2) return false;
      if (buffer[0] === 0x2d && buffer[1] === 0x2d) {
        phase = 'done';
        return false;
      }
      const lineEnd = buffer.indexOf('\r\n');
      if (lineEnd < 0) return false;
      buffer = buffer.subarray(lineEnd + 2);
      phase = 'head';
      return true;
    }
    if (phase === 'head') {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffer.length > MAX_HEAD_BYTES) throw new MultipartError('a part header is too long');
        return false;
      }
      head = parseHead(buffer.subarray(0, end).toString('utf8'));
      if (head.fileName !== undefined) sink = openFile(head);
      buffer = buffer.subarray(end + 4);
      phase = 'content';
      return true;
    }
    return false;
  };

  for await (const chunk of body as AsyncIterable<Buffer>) {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (await step());
    if (phase === 'done') break;
  }
  if (phase !== 'done') {
    if (sink) await sink.end();
    throw new MultipartError('the multipart body ended before its closing boundary');
  }
  return fields;
}
