/**
 * Checkpoints in the safetensors format: `ignis.save(stateDict, path)` and `ignis.load(path)`.
 *
 * Layout: an 8-byte little-endian unsigned header length N, N bytes of JSON
 * `{"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}`
 * (padded with spaces to a multiple of 8 so the data is aligned), then the tensors' raw
 * little-endian bytes, back to back, offsets relative to the end of the header. Tensors are laid out
 * as the reference implementation does (by dtype, I64 F64 F32 I32 BOOL, then by name), so a file
 * written here is byte-identical to one written by the `safetensors` Python package for the same
 * tensors. Files written by PyTorch (safetensors.torch.save_file) load here, and the other way round.
 *
 * Writes are atomic: the file is written to a temporary file in the same folder, flushed to disk and
 * renamed over the destination, so a failed or interrupted save never leaves a partial file.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DType } from './dtype';
import { ValueError } from './errors';
import * as ops from './ops/all';
import { Tensor } from './tensor';

/** A checkpoint file that is malformed, truncated or holds something ignis cannot load. */
export class SafetensorsError extends ValueError {
  constructor(
    message: string,
    readonly file: string,
    readonly offset?: number,
  ) {
    super(message);
  }
}

const TO_ST: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', int64: 'I64', bool: 'BOOL' };
const ST_SIZE: Record<string, number> = { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 };
/** The reference implementation's file order: dtypes by its enum order, last first (I64, F64, F32, I32, BOOL), then names. */
const ORDER: Record<DType, number> = { int64: 4, float64: 3, float32: 2, int32: 1, bool: 0 };
/** The largest header the reference implementation accepts (100 MB). */
const MAX_HEADER = 100_000_000;

export interface SaveOptions {
  /** string key/value pairs stored as the header's __metadata__ */
  metadata?: Record<string, string>;
}

function entries(dict: Record<string, Tensor> | Map<string, Tensor>, who: string): [string, Tensor][] {
  if (!dict || typeof dict !== 'object') throw new ValueError(`${who}: expected an object (or Map) of name -> Tensor`);
  const list = dict instanceof Map ? [...dict.entries()] : Object.entries(dict);
  for (const [k, v] of list) {
    if (!(v instanceof Tensor)) throw new ValueError(`${who}: value for '${k}' is not a Tensor`);
    if (k === '__metadata__') throw new ValueError(`${who}: '__metadata__' is reserved and cannot name a tensor`);
    if (v.isDisposed) throw new ValueError(`${who}: tensor '${k}' has been disposed`);
  }
  // device tensors are written from a host copy, as torch.save / safetensors do
  return list.map(([k, v]) => [k, v.device === 'cpu' ? v : v.detach().cpu()]);
}

/** The header and the tensor bytes (in file order) of a safetensors file. */
function layout(list: [string, Tensor][], metadata: Record<string, string> | undefined, who: string): { header: Buffer; chunks: Uint8Array[] } {
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object') throw new ValueError(`${who}: metadata must be an object of strings`);
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new ValueError(`${who}: metadata value for '${k}' must be a string, got ${typeof v}`);
  }
  const sorted = list.slice().sort(([ka, a], [kb, b]) => ORDER[b.dtype] - ORDER[a.dtype] || (ka < kb ? -1 : ka > kb ? 1 : 0));
  const head: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) head.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const [k, t] of sorted) {
    const data = t.dataSync();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    head[k] = { dtype: TO_ST[t.dtype], shape: t.shape.slice(), data_offsets: [at, at + bytes.byteLength] };
    at += bytes.byteLength;
    chunks.push(bytes);
  }
  let json = JSON.stringify(head);
  const len = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + len) % 8)) % 8);
  return { header: Buffer.from(json, 'utf8'), chunks };
}

/** The bytes of a safetensors file holding these tensors. */
export function serialize(dict: Record<string, Tensor> | Map<string, Tensor>, opts: SaveOptions = {}): Buffer {
  const { header, chunks } = layout(entries(dict, 'serialize'), opts.metadata, 'serialize');
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([n, header, ...chunks]);
}

/**
 * Saves tensors (a module's stateDict(), or any name -> Tensor object or Map) as a safetensors file,
 * atomically. Views and non-contiguous tensors are written as their contiguous values.
 *
 * @example ignis.save(model.stateDict(), 'model.safetensors', { metadata: { epoch: '3' } })
 */
export function save(dict: Record<string, Tensor> | Map<string, Tensor>, file: string, opts: SaveOptions = {}): void {
  if (typeof file !== 'string' || file === '') throw new ValueError('save: path must be a non-empty string');
  if (os.endianness() !== 'LE') throw new ValueError('save: big-endian hosts are not supported');
  const { header, chunks } = layout(entries(dict, 'save'), opts.metadata, 'save');
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(header.length));
  const dest = path.resolve(file);
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    for (const c of [n, header, ...chunks]) {
      let off = 0;
      while (off < c.byteLength) off += fs.writeSync(fd, c, off, c.byteLength - off);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, dest);
  } catch (e) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* never created */
    }
    const err = e as NodeJS.ErrnoException;
    throw new ValueError(`save: could not write ${file}: ${err.message}${err.code ? ` (${err.code})` : ''}`);
  }
  try {
    // make the rename durable (best effort: not every platform can fsync a directory)
    const dfd = fs.openSync(path.dirname(dest), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    /* ignore */
  }
}

export interface Loaded {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Parses the bytes of a safetensors file. `name` is used in error messages. F32, F64, I32, I64 and
 * BOOL load as they are; F16 and BF16 are widened to float32, I8, U8, I16 and U16 to int32, U32 to
 * int64 (U64 is read as int64 bits), since ignis has no narrower or unsigned dtypes.
 */
export function deserialize(buf: Uint8Array, name = '<buffer>'): Loaded {
  const fail = (msg: string, offset?: number): never => {
    throw new SafetensorsError(`${name}: ${msg}${offset !== undefined ? ` (at byte offset ${offset})` : ''}`, name, offset);
  };
  if (buf.byteLength < 8) fail(`truncated safetensors file: ${buf.byteLength} bytes, too short for the 8-byte header length`, buf.byteLength);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen64 = dv.getBigUint64(0, true);
  if (hlen64 > BigInt(MAX_HEADER)) fail(`header length ${hlen64} is larger than the ${MAX_HEADER}-byte limit: not a safetensors file, or a corrupt one`, 0);
  const hlen = Number(hlen64);
  if (hlen < 2) fail(`header length ${hlen} is too small for a JSON header`, 0);
  if (8 + hlen > buf.byteLength) fail(`truncated safetensors file: the header claims ${hlen} bytes but only ${buf.byteLength - 8} follow the length field`, buf.byteLength);
  let head: unknown;
  const text = Buffer.from(buf.buffer, buf.byteOffset + 8, hlen).toString('utf8');
  if (text.charCodeAt(0) !== 0x7b) fail(`header does not start with '{': not a safetensors file`, 8);
  try {
    head = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`, 8);
  }
  if (!head || typeof head !== 'object' || Array.isArray(head)) fail('header must be a JSON object', 8);
  const dataStart = 8 + hlen;
  const dataLen = buf.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const specs: { key: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, v] of Object.entries(head as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v)) fail('__metadata__ must be an object of strings', 8);
      for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) {
        if (typeof mv !== 'string') fail(`__metadata__ value for '${mk}' must be a string`, 8);
        metadata[mk] = mv as string;
      }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object') fail(`entry '${key}' must be an object with dtype, shape and data_offsets`, 8);
    if (typeof e.dtype !== 'string' || !(e.dtype in ST_SIZE)) fail(`tensor '${key}' has unsupported dtype ${JSON.stringify(e.dtype)}; expected one of ${Object.keys(ST_SIZE).join(', ')}`, 8);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((s) => typeof s !== 'number' || !Number.isInteger(s) || s < 0)) fail(`tensor '${key}' has a bad shape ${JSON.stringify(shape)}`, 8);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => typeof o !== 'number' || !Number.isInteger(o) || o < 0) || offs[0] > offs[1])
      fail(`tensor '${key}' has bad data_offsets ${JSON.stringify(offs)}`, 8);
    const [begin, end] = offs as number[];
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    const size = ST_SIZE[e.dtype as string];
    if (end - begin !== n * size)
      fail(`tensor '${key}' (${e.dtype as string} [${(shape as number[]).join(', ')}]) needs ${n * size} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`, 8);
    if (end > dataLen)
      fail(`truncated safetensors file: tensor '${key}' ends at byte ${dataStart + end} but the file has ${buf.byteLength} bytes`, buf.byteLength);
    specs.push({ key, dtype: e.dtype as string, shape: shape as number[], begin, end });
  }
  // the reference implementation requires the tensors to tile the data area exactly
  const byBegin = specs.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of byBegin) {
    if (s.begin !== at)
      fail(s.begin < at ? `tensor '${s.key}' overlaps the previous tensor's data (data_offsets start ${s.begin} < ${at})` : `gap in the data before tensor '${s.key}' (data_offsets start ${s.begin}, expected ${at})`, dataStart + Math.min(s.begin, at));
    at = s.end;
  }
  if (at !== dataLen) fail(`${dataLen - at} unexpected trailing bytes after the last tensor's data`, dataStart + at);
  const tensors: Record<string, Tensor> = {};
  for (const s of specs) tensors[s.key] = decode(buf.subarray(dataStart + s.begin, dataStart + s.end), s.dtype, s.shape);
  return { tensors, metadata };
}

function decode(bytes: Uint8Array, dtype: string, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  // copy to an aligned buffer (offsets inside a file need not be aligned to the element size)
  const ab = new Uint8Array(bytes).buffer; // a copy (Buffer#slice would be a view)
  switch (dtype) {
    case 'F32':
      return ops.tensor(new Float32Array(ab, 0, n), { shape });
    case 'F64':
      return ops.tensor(new Float64Array(ab, 0, n), { shape });
    case 'I32':
      return ops.tensor(new Int32Array(ab, 0, n), { shape });
    case 'I64':
      return ops.tensor(new BigInt64Array(ab, 0, n), { shape });
    case 'U64':
      return ops.tensor(new BigInt64Array(ab, 0, n), { shape });
    case 'BOOL': {
      const u = new Uint8Array(ab, 0, n);
      for (let i = 0; i < n; i++) u[i] = u[i] ? 1 : 0;
      return ops.tensor(u, { shape });
    }
    case 'F16':
    case 'BF16': {
      const h = new Uint16Array(ab, 0, n);
      const out = new Float32Array(n);
      if (dtype === 'BF16') {
        const u = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) u[i] = h[i] << 16;
      } else for (let i = 0; i < n; i++) out[i] = halfToFloat(h[i]);
      return ops.tensor(out, { shape });
    }
    default: {
      const src =
        dtype === 'I8' ? new Int8Array(ab, 0, n) : dtype === 'U8' ? new Uint8Array(ab, 0, n) : dtype === 'I16' ? new Int16Array(ab, 0, n) : dtype === 'U16' ? new Uint16Array(ab, 0, n) : new Uint32Array(ab, 0, n);
      if (dtype === 'U32') {
        const big = BigInt64Array.from(src as Uint32Array, (v) => BigInt(v));
        return ops.tensor(big, { shape });
      }
      return ops.tensor(Int32Array.from(src), { shape });
    }
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Loads a safetensors file: its tensors and its __metadata__. */
export function loadFile(file: string): Loaded {
  if (typeof file !== 'string' || file === '') throw new ValueError('load: path must be a non-empty string');
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ValueError(`load: could not read ${file}: ${err.message}`);
  }
  return deserialize(buf, file);
}

/**
 * Loads the tensors of a safetensors file as a name -> Tensor object, ready for
 * `module.loadStateDict(ignis.load(path))`.
 */
export function load(file: string): Record<string, Tensor> {
  return loadFile(file).tensors;
}
