/**
 * Checkpoints (safetensors): ignis.save / ignis.load round trips for every dtype, PyTorch interop via
 * the committed fixtures of scripts/gen_safetensors_fixture.py (values, metadata, byte-identical
 * layout, a torch model's state_dict loaded into the same ignis model), module stateDict round trip,
 * atomic writes, and clear errors for corrupt or truncated files.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ignis from '../src';
import type { Tensor } from '../src';

const { nn } = ignis;
const FIX = path.join(__dirname, 'fixtures');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ignis-st-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const same = (a: Tensor, b: Tensor): void => {
  expect(a.dtype).toBe(b.dtype);
  expect(a.shape).toEqual(b.shape);
  expect(Array.from(a.dataSync() as unknown as ArrayLike<number>)).toEqual(Array.from(b.dataSync() as unknown as ArrayLike<number>));
};

/** A safetensors file from a header object and raw data bytes (no padding). */
function craft(header: unknown, body: Uint8Array = new Uint8Array(0), lenOverride?: bigint): Buffer {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(lenOverride ?? BigInt(h.length));
  return Buffer.concat([n, h, Buffer.from(body)]);
}

describe('save / load', () => {
  it('round-trips every dtype, 0-d, empty and non-contiguous tensors, and metadata', () => {
    const dict: Record<string, Tensor> = {
      a: ignis.randn([3, 4], { generator: new ignis.Generator(0) }),
      b: ignis.arange(6, { dtype: 'float64' }).div(7),
      c: ignis.tensor([[-5, 2147483647]], { dtype: 'int32' }),
      d: ignis.tensor(new BigInt64Array([-(2n ** 62n), 2n ** 53n + 1n])),
      e: ignis.tensor([true, false, true]),
      s: ignis.tensor(2.5),
      z: ignis.zeros([0, 5]),
      t: ignis.arange(12).float().reshape(3, 4).t(), // non-contiguous view
    };
    const file = path.join(dir, 'rt.safetensors');
    ignis.save(dict, file, { metadata: { epoch: '3', note: 'ünïcode' } });
    const { tensors, metadata } = ignis.loadFile(file);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(dict).sort());
    for (const k of Object.keys(dict)) same(tensors[k], dict[k]);
    expect((tensors.d.dataSync() as BigInt64Array)[1]).toBe(2n ** 53n + 1n);
    expect(tensors.s.shape).toEqual([]);
    expect(metadata).toEqual({ epoch: '3', note: 'ünïcode' });
    // a Map works too, and the data starts 8-byte aligned
    const buf = ignis.serialize(new Map([['x', ignis.ones([2])]]));
    expect((8 + Number(buf.readBigUInt64LE(0))) % 8).toBe(0);
    same(ignis.deserialize(buf).tensors.x, ignis.ones([2]));
  });

  it('reads the PyTorch fixture: values, dtypes, shapes and metadata', () => {
    const { tensors: t, metadata } = ignis.loadFile(path.join(FIX, 'torch_tensors.safetensors'));
    expect(metadata.generator).toMatch(/^torch /);
    same(t.f32, ignis.arange(12).float().reshape(3, 4).div(8).sub(0.5));
    const f64 = Array.from(t.f64.dataSync() as Float64Array);
    expect(t.f64.dtype).toBe('float64');
    expect(f64.slice(0, 3)).toEqual([0.1, -2.5, 1e300]);
    expect(Object.is(f64[3], -0)).toBe(true);
    expect(f64[4]).toBe(Infinity);
    expect(t.i32.dtype).toBe('int32');
    expect(t.i32.toArray()).toEqual([[-(2 ** 31), -1, 0], [1, 7, 2 ** 31 - 1]]);
    expect(Array.from(t.i64.dataSync() as BigInt64Array)).toEqual([-(2n ** 62n), -3n, 0n, 2n ** 53n, 2n ** 62n]);
    expect(t.mask.toArray()).toEqual([[true, false, true], [false, false, true]]);
    expect(t.scalar.shape).toEqual([]);
    expect(t.scalar.item()).toBe(3.5);
    expect(t.empty.shape).toEqual([0, 3]);
    expect(t['odd.bool'].toArray()).toEqual([true]);
  });

  it('writes files byte-identical to the reference layout', () => {
    const file = path.join(FIX, 'torch_tensors.safetensors');
    const { tensors, metadata } = ignis.loadFile(file);
    expect(ignis.serialize(tensors, { metadata }).equals(fs.readFileSync(file))).toBe(true);
    const mfile = path.join(FIX, 'torch_model.safetensors');
    const m = ignis.loadFile(mfile);
    const out = path.join(dir, 'model_copy.safetensors');
    ignis.save(m.tensors, out, { metadata: m.metadata });
    expect(fs.readFileSync(out).equals(fs.readFileSync(mfile))).toBe(true);
  });

  it("loads a PyTorch model's state_dict into the same ignis model and reproduces its output", () => {
    const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(8, 3));
    const res = model.loadStateDict(ignis.load(path.join(FIX, 'torch_model.safetensors')));
    expect(res.missingKeys).toEqual([]);
    const io = ignis.load(path.join(FIX, 'torch_tensors.safetensors'));
    const y = ignis.noGrad(() => model.call(io.model_input) as Tensor);
    const diff = y.sub(io.model_output).abs().amax().item() as number;
    expect(diff).toBeLessThan(1e-5);
  });

  it('module stateDict -> save -> load -> loadStateDict gives the same model', () => {
    ignis.manualSeed(1);
    const make = (): ignis.nn.Module =>
      new nn.Sequential(new nn.Conv2d(3, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.Flatten(), new nn.Linear(4 * 5 * 5, 2));
    const a = make();
    // give the batch norm non-trivial running statistics
    a.call(ignis.randn([4, 3, 5, 5]));
    const file = path.join(dir, 'net.safetensors');
    ignis.save(a.stateDict(), file);
    const b = make();
    b.loadStateDict(ignis.load(file));
    const sa = a.stateDict();
    const sb = b.stateDict();
    expect(Object.keys(sb)).toEqual(Object.keys(sa));
    for (const k of Object.keys(sa)) same(sb[k], sa[k]);
    a.eval();
    b.eval();
    const x = ignis.randn([2, 3, 5, 5]);
    same(b.call(x) as Tensor, a.call(x) as Tensor);
  });

  it('writes atomically: a failed save leaves no partial or temporary file', () => {
    const file = path.join(dir, 'atomic.safetensors');
    ignis.save({ w: ignis.ones([4]) }, file);
    const before = fs.readFileSync(file);
    expect(() => ignis.save({ w: 3 as never }, file)).toThrow(/not a Tensor/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    // the rename fails (the destination is a folder): the temporary file is removed
    const asDir = path.join(dir, 'iam_a_dir');
    fs.mkdirSync(asDir);
    expect(() => ignis.save({ w: ignis.ones([1000]) }, asDir)).toThrow(/could not write/);
    expect(fs.statSync(asDir).isDirectory()).toBe(true);
    expect(() => ignis.save({ w: ignis.ones([2]) }, path.join(dir, 'no', 'such', 'dir.st'))).toThrow(ignis.ValueError);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // overwriting an existing file replaces it whole
    ignis.save({ v: ignis.zeros([2, 2]) }, file);
    expect(Object.keys(ignis.load(file))).toEqual(['v']);
  });

  it('reads unaligned data and widens F16 / BF16 / U8 / I16', () => {
    const body = Buffer.alloc(1 + 8 + 4 + 4 + 3 + 4);
    let o = 0;
    body[o++] = 1; // BOOL [1]
    body.writeFloatLE(1.5, o);
    body.writeFloatLE(-2, o + 4); // F32 [2] at offset 1 (unaligned)
    o += 8;
    body.writeUInt16LE(0x3c00, o); // F16 1.0
    body.writeUInt16LE(0xc000, o + 2); // F16 -2.0
    o += 4;
    body.writeUInt16LE(0x3fc0, o); // BF16 1.5
    body.writeUInt16LE(0x4049, o + 2); // BF16 3.140625
    o += 4;
    body.set([0, 200, 255], o); // U8
    o += 3;
    body.writeInt16LE(-300, o);
    body.writeInt16LE(7, o + 2);
    const hdr = {
      b: { dtype: 'BOOL', shape: [1], data_offsets: [0, 1] },
      f: { dtype: 'F32', shape: [2], data_offsets: [1, 9] },
      h: { dtype: 'F16', shape: [2], data_offsets: [9, 13] },
      bf: { dtype: 'BF16', shape: [2], data_offsets: [13, 17] },
      u: { dtype: 'U8', shape: [3], data_offsets: [17, 20] },
      s: { dtype: 'I16', shape: [2], data_offsets: [20, 24] },
    };
    const t = ignis.deserialize(craft(hdr, body), 'crafted').tensors;
    expect(t.b.toArray()).toEqual([true]);
    expect(t.f.toArray()).toEqual([1.5, -2]);
    expect(t.h.toArray()).toEqual([1, -2]);
    expect(t.bf.toArray()).toEqual([1.5, 3.140625]);
    expect(t.u.dtype).toBe('int32');
    expect(t.u.toArray()).toEqual([0, 200, 255]);
    expect(t.s.toArray()).toEqual([-300, 7]);
  });

  it('rejects corrupt and truncated files with a clear error naming the file', () => {
    const good = fs.readFileSync(path.join(FIX, 'torch_model.safetensors'));
    const f = path.join(dir, 'bad.safetensors');
    const check = (bytes: Uint8Array, re: RegExp): void => {
      fs.writeFileSync(f, bytes);
      let err: unknown;
      try {
        ignis.load(f);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ignis.SafetensorsError);
      expect(err).toBeInstanceOf(ignis.ValueError);
      expect((err as Error).message).toContain(f);
      expect((err as Error).message).toMatch(re);
    };
    const one = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    check(good.subarray(0, 5), /too short for the 8-byte header length.*offset 5/);
    check(good.subarray(0, good.length - 3), new RegExp(`truncated.*ends at byte ${good.length}.*offset ${good.length - 3}`));
    check(good.subarray(0, 40), /truncated.*header claims/);
    check(craft(one, new Uint8Array(8), 2n ** 40n), /header length .* limit/);
    check(craft('{"w": [1, 2', new Uint8Array(8)), /not valid JSON/);
    check(craft('[1,2,3]'), /not start with '\{'/);
    check(craft({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)), /unsupported dtype "F8_E4M3"/);
    check(craft({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, new Uint8Array(8)), /bad shape/);
    check(craft({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /needs 12 bytes/);
    check(craft({ w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /gap in the data/);
    check(
      craft({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, v: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)),
      /overlaps/,
    );
    check(craft(one, new Uint8Array(11)), /3 unexpected trailing bytes/);
    check(craft({ __metadata__: { a: 1 }, ...one }, new Uint8Array(8)), /__metadata__ value for 'a'/);
    expect(() => ignis.load(path.join(dir, 'missing.safetensors'))).toThrow(/could not read/);
    expect(() => ignis.save({ __metadata__: ignis.ones([1]) }, f)).toThrow(/reserved/);
  });
});
