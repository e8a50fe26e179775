import { createReadStream } from 'node:fs';
import iconv from 'iconv-lite';

/**
 * A byte-level CSV record reader.
 *
 * Why not csv-parse: the CSV connector's cursor is the byte offset of the next row, so a page resumes with
 * `createReadStream({ start })`. That needs the exact byte offset of every record in the *file's* encoding
 * (windows-1252 and UTF-16BE are not Buffer encodings, so csv-parse would need a transcoding stream in front
 * and its offsets would no longer be file offsets), correct line numbers with CRLF inside quoted fields, and
 * recovery from broken quoting (csv-parse loses the rest of the file after an unclosed quote). This reader
 * works on code units of 1 byte (UTF-8, windows-1252) or 2 bytes (UTF-16LE/BE): every structural character
 * (delimiter, quote, CR, LF) is ASCII, and in these encodings no byte/unit of a multi-byte character can be
 * mistaken for one.
 */

export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface RawRow {
  /** Decoded cell values (quotes removed, `""` unescaped). Empty when `error` is set. */
  cells: string[];
  /** 1-based line number where the record starts. */
  line: number;
  /** Byte offset of the record's first byte, and of the byte after its record delimiter. */
  start: number;
  end: number;
  /** Line number of the record that follows. */
  nextLine: number;
  /** Set when the record's quoting is broken; the reader skipped it and went on with the next line. */
  error?: string;
}

export interface TokenizeOptions {
  encoding: CsvEncoding;
  delimiter: string;
  /** Byte offset to start at (the start of a record); 0 skips a byte-order mark. */
  start?: number;
  /** Line number of the record at `start` (1 for the file start). */
  line?: number;
  /** A quoted record longer than this is treated as an unclosed quote. */
  maxRecordBytes?: number;
  /** Called when the underlying file stream opens and closes (for tests and diagnostics). */
  onStream?: (event: 'open' | 'close') => void;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

export function bomLength(head: Buffer, encoding: CsvEncoding): number {
  if (encoding === 'utf-8' && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 3;
  if (encoding === 'utf-16le' && head[0] === 0xff && head[1] === 0xfe) return 2;
  if (encoding === 'utf-16be' && head[0] === 0xfe && head[1] === 0xff) return 2;
  return 0;
}

/** Length of the UTF-8 sequence that starts at `index`, or 0 when the bytes there are not one. */
export function utf8SequenceAt(buffer: Buffer, index: number): number {
  const first = buffer[index]!;
  const length = first < 0x80 ? 1 : first >= 0xc2 && first <= 0xdf ? 2 : first >= 0xe0 && first <= 0xef ? 3 : first >= 0xf0 && first <= 0xf4 ? 4 : 0;
  if (length <= 1 || index + length > buffer.length) return index + length > buffer.length ? 0 : length;
  for (let next = 1; next < length; next++) if ((buffer[index + next]! & 0xc0) !== 0x80) return 0;
  const second = buffer[index + 1]!;
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
  if ((first === 0xe0 && second < 0xa0) || (first === 0xed && second > 0x9f) || (first === 0xf0 && second < 0x90) || (first === 0xf4 && second > 0x8f)) return 0;
  return length;
}

/**
 * A cell of a UTF-8 file that is not valid UTF-8 (an export that pasted windows-1252 text into a UTF-8
 * file: mixed encodings). Each valid UTF-8 sequence is read as UTF-8 and each byte outside one as
 * windows-1252, so "José" stays "José" whichever way it was written (a documented conversion).
 */
function decodeMixedUtf8(buffer: Buffer): string {
  let out = '';
  let index = 0;
  while (index < buffer.length) {
    const length = utf8SequenceAt(buffer, index);
    if (length > 0) {
      out += buffer.toString('utf8', index, index + length);
      index += length;
    } else {
      out += iconv.decode(buffer.subarray(index, index + 1), 'win1252');
      index += 1;
    }
  }
  return out;
}

export function decodeBytes(buffer: Buffer, encoding: CsvEncoding): string {
  switch (encoding) {
    case 'utf-8': {
      const text = buffer.toString('utf8');
      return text.includes('\uFFFD') ? decodeMixedUtf8(buffer) : text;
    }
    case 'utf-16le':
      return buffer.toString('utf16le');
    case 'utf-16be': {
      const swapped = Buffer.from(buffer);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    case 'windows-1252':
      return iconv.decode(buffer, 'win1252');
  }
}

interface Cell {
  start: number;
  end: number;
  quoted: boolean;
}

/**
 * Streams the records of a CSV file from `start`. Stop early by leaving the `for await` loop: the file
 * stream is closed then. Blank lines are skipped. Memory is bounded by the largest record (capped by
 * `maxRecordBytes`) plus one read chunk.
 */
export async function* tokenize(path: string, options: TokenizeOptions): AsyncGenerator<RawRow> {
  const unitSize = options.encoding === 'utf-16le' || options.encoding === 'utf-16be' ? 2 : 1;
  const bigEndian = options.encoding === 'utf-16be';
  const delimiter = options.delimiter.charCodeAt(0);
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  let fileOffset = options.start ?? 0; // file offset of buf[0]
  let line = options.line ?? 1;
  let buf: Buffer = Buffer.alloc(0);
  let atFileStart = fileOffset === 0;

  // Parser state, positions relative to buf. The buffer always holds the current record from its start.
  let recordStart = 0;
  let recordLine = line;
  let pos = 0;
  let cells: Cell[] = [];
  let cellStart = 0;
  let inQuotes = false;
  let quotedCell = false;
  let afterClosingQuote = false;
  let skipping: string | undefined; // set while skipping the rest of a broken record's first line

  const unit = (i: number): number => {
    if (unitSize === 1) return buf[i]!;
    return bigEndian ? (buf[i]! << 8) | buf[i + 1]! : buf[i]! | (buf[i + 1]! << 8);
  };

  const decodeCell = (cell: Cell): string => {
    const text = decodeBytes(buf.subarray(cell.start, cell.end), options.encoding);
    return cell.quoted ? text.replaceAll('""', '"') : text;
  };

  const resetRecord = (at: number) => {
    recordStart = at;
    recordLine = line;
    cells = [];
    cellStart = at;
    inQuotes = false;
    quotedCell = false;
    afterClosingQuote = false;
  };

  /** Broken quoting: rewind to the record start and skip its first physical line. */
  const fail = (message: string) => {
    skipping = message;
    line = recordLine;
    pos = recordStart;
  };

  const stream = createReadStream(path, { start: fileOffset, highWaterMark: 64 * 1024 });
  options.onStream?.('open');
  try {
    let eof = false;
    const chunks = stream[Symbol.asyncIterator]();
    while (!eof) {
      const next = (await chunks.next()) as IteratorResult<Buffer>;
      if (next.done) eof = true;
      else buf = buf.length === 0 ? next.value : Buffer.concat([buf, next.value]);
      if (atFileStart && (buf.length >= 3 || eof)) {
        const bom = bomLength(buf, options.encoding);
        if (bom > 0) {
          buf = buf.subarray(bom);
          fileOffset += bom;
        }
        atFileStart = false;
        resetRecord(0);
        pos = 0;
      }
      if (atFileStart) continue;

      // Scan complete units; a CR at the end waits for the next chunk to see whether LF follows.
      const limit = buf.length - (buf.length % unitSize);
      scan: while (pos < limit) {
        const c = unit(pos);
        if (skipping !== undefined) {
          if (c === LF || c === CR) {
            let after = pos + unitSize;
            if (c === CR) {
              if (after >= limit && !eof) break scan;
              if (after < limit && unit(after) === LF) after += unitSize;
            }
            line += 1;
            yield {
              cells: [],
              line: recordLine,
              start: fileOffset + recordStart,
              end: fileOffset + after,
              nextLine: line,
              error: skipping,
            };
            skipping = undefined;
            pos = after;
            resetRecord(after);
            continue;
          }
          pos += unitSize;
          continue;
        }
        if (inQuotes) {
          if (c === QUOTE) {
            if (pos + unitSize >= limit && !eof) break scan; // need to see the next unit
            if (pos + unitSize < limit && unit(pos + unitSize) === QUOTE) {
              pos += 2 * unitSize;
              continue;
            }
            inQuotes = false;
            afterClosingQuote = true;
            cells.push({ start: cellStart, end: pos, quoted: true });
            pos += unitSize;
            continue;
          }
          if (c === LF) line += 1;
          else if (c === CR) {
            if (pos + unitSize >= limit && !eof) break scan;
            if (!(pos + unitSize < limit && unit(pos + unitSize) === LF)) line += 1;
          }
          pos += unitSize;
          if (pos - recordStart > maxRecordBytes) {
            fail(`Quote not closed (record longer than ${maxRecordBytes} bytes)`);
          }
          continue;
        }
        if (c === delimiter || c === LF || c === CR) {
          if (c === CR && pos + unitSize >= limit && !eof) break scan; // CR LF split across chunks
          if (!afterClosingQuote) cells.push({ start: cellStart, end: pos, quoted: false });
          afterClosingQuote = false;
          quotedCell = false;
          if (c === delimiter) {
            pos += unitSize;
            cellStart = pos;
            continue;
          }
          let after = pos + unitSize;
          if (c === CR && after < limit && unit(after) === LF) after += unitSize;
          line += 1;
          const blank = cells.length === 1 && cells[0]!.start === cells[0]!.end && !cells[0]!.quoted;
          if (!blank) {
            yield {
              cells: cells.map(decodeCell),
              line: recordLine,
              start: fileOffset + recordStart,
              end: fileOffset + after,
              nextLine: line,
            };
          }
          pos = after;
          resetRecord(after);
          continue;
        }
        if (afterClosingQuote) {
          fail('Invalid quoting: a closing quote must be followed by a delimiter or the end of the line');
          continue;
        }
        if (c === QUOTE && pos === cellStart && !quotedCell) {
          inQuotes = true;
          quotedCell = true;
          cellStart = pos + unitSize;
          pos += unitSize;
          continue;
        }
        // Any other unit, including a quote inside an unquoted cell (kept literally, as most CRMs export it).
        pos += unitSize;
        if (pos - recordStart > maxRecordBytes) fail(`Record longer than ${maxRecordBytes} bytes`);
      }

      if (eof) {
        if (skipping !== undefined) {
          yield { cells: [], line: recordLine, start: fileOffset + recordStart, end: fileOffset + limit, nextLine: line + 1, error: skipping };
          return;
        }
        if (inQuotes) {
          // A quote left open at the end of the file. The buffer holds the whole broken record (at most
          // maxRecordBytes): report it, then read on from the line after the record's first line.
          let after = limit;
          for (let i = recordStart; i < limit; i += unitSize) {
            const c = unit(i);
            if (c === LF || c === CR) {
              after = c === CR && i + unitSize < limit && unit(i + unitSize) === LF ? i + 2 * unitSize : i + unitSize;
              break;
            }
          }
          yield {
            cells: [],
            line: recordLine,
            start: fileOffset + recordStart,
            end: fileOffset + after,
            nextLine: recordLine + 1,
            error: 'Quote not closed before the end of the file',
          };
          if (after < limit) yield* tokenize(path, { ...options, start: fileOffset + after, line: recordLine + 1 });
          return;
        }
        if (pos > recordStart || cells.length > 0) {
          // Last record without a trailing newline.
          if (!afterClosingQuote) cells.push({ start: cellStart, end: pos, quoted: false });
          const blank = cells.length === 1 && cells[0]!.start === cells[0]!.end && !cells[0]!.quoted;
          if (!blank) {
            yield { cells: cells.map(decodeCell), line: recordLine, start: fileOffset + recordStart, end: fileOffset + pos, nextLine: line + 1 };
          }
        }
        return;
      }

      // Drop what is done; keep the current record.
      if (recordStart > 0) {
        buf = buf.subarray(recordStart);
        fileOffset += recordStart;
        pos -= recordStart;
        cellStart -= recordStart;
        for (const cell of cells) {
          cell.start -= recordStart;
          cell.end -= recordStart;
        }
        recordStart = 0;
      }
    }
  } finally {
    stream.destroy();
    options.onStream?.('close');
  }
}
