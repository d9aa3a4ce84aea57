/**
 * Readers for the on-disk formats of the standard vision datasets: IDX (MNIST, Fashion-MNIST),
 * optionally gzipped, and the CIFAR-10 binary batches. Every malformed or truncated file raises a
 * DataFormatError that names the file and the byte offset where reading failed.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import { ValueError } from '../errors';

/** A data file that is malformed or truncated. `offset` is the byte where reading failed. */
export class DataFormatError extends ValueError {
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** A data set whose files cannot be found. */
export class DataNotFoundError extends ValueError {}

/** Reads a file, gunzipping it when it starts with the gzip magic bytes. */
export function readMaybeGzip(file: string): { bytes: Uint8Array; gz: boolean } {
  const raw = fs.readFileSync(file);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      const out = zlib.gunzipSync(raw);
      return { bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), gz: true };
    } catch (e) {
      throw new DataFormatError(`${file}: corrupt or truncated gzip data (${(e as Error).message}) in the ${raw.length}-byte stream starting at byte offset 0`, file, 0);
    }
  }
  return { bytes: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), gz: false };
}

const IDX_TYPES: Record<number, string> = { 0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

/** An IDX array of unsigned bytes: its dims and the row-major data (a view into the file bytes). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses an IDX file of unsigned bytes (the MNIST format: magic 0x00 0x00 0x08 ndim, ndim big-endian
 * uint32 sizes, then the data). `ndim` is the number of dims the caller expects.
 */
export function parseIdx(bytes: Uint8Array, file: string, ndim: number, gz = false): IdxArray {
  const where = gz ? ' of the decompressed data' : '';
  const fail = (msg: string, offset: number): never => {
    throw new DataFormatError(`${file}: ${msg} (at byte offset ${offset}${where})`, file, offset);
  };
  if (bytes.length < 4) fail(`truncated IDX file: ${bytes.length} bytes, too short for the 4-byte magic number`, bytes.length);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    fail(`not an IDX file: magic number starts with 0x${hex(bytes[0])} 0x${hex(bytes[1])}, expected 0x00 0x00`, bytes[0] !== 0 ? 0 : 1);
  const type = bytes[2];
  if (type !== 0x08)
    fail(`unsupported IDX element type 0x${hex(type)} (${IDX_TYPES[type] ?? 'unknown'}); MNIST-style files hold unsigned bytes (0x08)`, 2);
  if (bytes[3] !== ndim) fail(`expected an IDX array with ${ndim} dim${ndim === 1 ? '' : 's'}, the header says ${bytes[3]}`, 3);
  const head = 4 + 4 * ndim;
  if (bytes.length < head) fail(`truncated IDX header: ${ndim} dim sizes need ${head} bytes, the file has ${bytes.length}`, bytes.length);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let n = 1;
  for (let i = 0; i < ndim; i++) {
    const d = dv.getUint32(4 + 4 * i, false);
    dims.push(d);
    n *= d;
  }
  if (bytes.length < head + n)
    fail(`truncated IDX data: dims [${dims.join(', ')}] need ${n} bytes from offset ${head} (file size ${head + n}), the data ends after ${bytes.length - head}`, bytes.length);
  if (bytes.length > head + n) fail(`${bytes.length - head - n} unexpected trailing bytes after the IDX data of dims [${dims.join(', ')}]`, head + n);
  return { dims, data: bytes.subarray(head, head + n) };
}

/** Reads and parses an IDX file (gzipped or not). */
export function readIdx(file: string, ndim: number): IdxArray {
  const { bytes, gz } = readMaybeGzip(file);
  return parseIdx(bytes, file, ndim, gz);
}

/** Size of one CIFAR-10 record: 1 label byte and 3 x 32 x 32 pixel bytes (R plane, G plane, B plane). */
export const CIFAR_RECORD = 3073;

/** Parses a CIFAR-10 binary batch into its labels and CHW pixel bytes (one record after another). */
export function parseCifarBatch(bytes: Uint8Array, file: string, numClasses = 10): { labels: Uint8Array; pixels: Uint8Array } {
  if (bytes.length === 0) throw new DataFormatError(`${file}: empty CIFAR-10 batch file (at byte offset 0)`, file, 0);
  const n = Math.floor(bytes.length / CIFAR_RECORD);
  if (bytes.length % CIFAR_RECORD !== 0) {
    const off = n * CIFAR_RECORD;
    throw new DataFormatError(
      `${file}: truncated or malformed CIFAR-10 batch: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD}-byte records; record ${n} starting at byte offset ${off} has only ${bytes.length - off} bytes`,
      file,
      off,
    );
  }
  const labels = new Uint8Array(n);
  const pixels = new Uint8Array(n * (CIFAR_RECORD - 1));
  for (let i = 0; i < n; i++) {
    const off = i * CIFAR_RECORD;
    const y = bytes[off];
    if (y >= numClasses) throw new DataFormatError(`${file}: label ${y} of record ${i} is not a class index 0..${numClasses - 1} (at byte offset ${off})`, file, off);
    labels[i] = y;
    pixels.set(bytes.subarray(off + 1, off + CIFAR_RECORD), i * (CIFAR_RECORD - 1));
  }
  return { labels, pixels };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
