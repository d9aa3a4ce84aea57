/**
 * Bad calls raise typed errors (subclasses of IgnisError) whose messages name the op and, where
 * they matter, the shapes and dtypes. Never a crash, never corrupted memory: after the whole
 * table the process still computes correctly and the memory accounting is sane.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';

const {
  IgnisError, ShapeError, DTypeError, DeviceError, IndexError, ValueError, MemoryError, DisposedError, AutogradError,
} = ignis;

type ErrCls = new (m: string) => Error;
type Case = [name: string, fn: () => unknown, cls: ErrCls | ErrCls[], msg: RegExp];

const z = (...s: number[]) => ignis.zeros(s);
const disposed = (shape = [2, 3]) => {
  const t = ignis.zeros(shape);
  t.dispose();
  return t;
};
const leaf = (shape = [2]) => ignis.ones(shape, { requiresGrad: true });

const noCuda = ignis.cuda.isAvailable() ? 'cuda:99' : 'cuda';

const CASES: Case[] = [
  // ---- shapes / broadcasting ---------------------------------------------------------------
  ['add non-broadcastable', () => z(2, 3).add(z(4)), ShapeError, /^add: shapes \[2, 3\] and \[4\] are not broadcastable/],
  ['mul non-broadcastable', () => ignis.mul(z(2, 3), z(3, 2)), ShapeError, /^mul: shapes \[2, 3\] and \[3, 2\]/],
  ['where non-broadcastable', () => ignis.where(ignis.ones([3], { dtype: 'bool' }), z(2), z(3)), ShapeError, /^where: shapes \[3\] and \[2\]/],
  ['matmul inner mismatch', () => z(2, 3).matmul(z(2, 3)), ShapeError, /^matmul: shapes \[2, 3\] and \[2, 3\] cannot be multiplied/],
  ['matmul 0-d', () => ignis.matmul(z(), z(2)), ShapeError, /^matmul: .*\[\] and \[2\]/],
  ['mm on 1-D', () => ignis.mm(z(2), z(2, 2)), ShapeError, /^mm: expected 2-D tensors, got \[2\] and \[2, 2\]/],
  ['bmm on 2-D', () => ignis.bmm(z(2, 2), z(2, 2)), ShapeError, /^bmm: expected 3-D/],
  ['dot size mismatch', () => ignis.dot(z(2), z(3)), ShapeError, /^dot: .*\[2\] and \[3\]/],
  ['cat mismatched sizes', () => ignis.cat([z(2, 3), z(2, 4)]), ShapeError, /^cat: .*\[2, 3\] and \[2, 4\]/],
  ['stack unequal', () => ignis.stack([z(2), z(3)]), ShapeError, /^stack: .*\[2\] and \[3\]/],
  ['reshape wrong numel', () => z(2, 3).reshape([4, 2]), ShapeError, /^reshape: shape \[4, 2\] is invalid for input of size 6/],
  ['reshape two -1', () => z(2, 3).reshape([-1, -1]), ShapeError, /^reshape: only one dimension can be inferred/],
  ['view on non-contiguous', () => z(2, 3).t().view([6]), ShapeError, /^view: .*\[3, 2\].*reshape/],
  ['expand non-singleton', () => z(2, 3).expand([4, 3]), ShapeError, /^expand: .*\(4\).*\(2\).*\[4, 3\].*\[2, 3\]/],
  ['expand fewer dims', () => z(2, 3).expand([3]), ShapeError, /^expand: the number of sizes provided \(1\)/],
  ['t on 3-D', () => z(2, 3, 4).t(), ShapeError, /^t: .*3D/],
  ['split sizes do not sum', () => z(5).split([2, 2]), ShapeError, /^split: .*\[2, 2\].*5/],
  ['tensor shape/data mismatch', () => ignis.tensor(new Float32Array(4), { shape: [3] }), ShapeError, /^tensor: shape \[3\] does not match 4 elements/],
  ['ragged nested array', () => ignis.tensor([[1, 2], [3]]), ShapeError, /^tensor: .*ragged/],
  ['ragged (scalar vs list)', () => ignis.tensor([[1, 2], 3] as never), ShapeError, /^tensor: .*ragged/],
  ['17 dims', () => ignis.zeros(new Array(17).fill(1)), ShapeError, /^zeros: at most 16 dims/],
  ['item on 2 elements', () => z(2).item(), ShapeError, /^item: a Tensor with 2 elements .*\[2\]/],
  ['in-place broadcast grows self', () => z(2).add_(z(3, 2)), ShapeError, /^add_: output with shape \[2\] doesn't match the broadcast shape \[3, 2\]/],
  ['copy_ unbroadcastable', () => z(2).copy_(z(3)), ShapeError, /^copy_: .*\[2\] and \[3\]/],
  ['backward gradient shape', () => leaf([3]).mul(2).backward(z(2)), ShapeError, /^backward: .*\[2\].*\[3\]/],
  ['gather index rank', () => z(2, 3).gather(1, ignis.tensor([0, 1])), ShapeError, /^gather: index \[2\] and input \[2, 3\]/],

  // ---- bad sizes / values --------------------------------------------------------------------
  ['zeros negative', () => ignis.zeros([-1, 2]), ValueError, /^zeros: sizes must be non-negative integers, got \[-1, 2\]/],
  ['zeros fractional', () => ignis.zeros([1.5]), ValueError, /^zeros: .*\[1\.5\]/],
  ['zeros NaN', () => ignis.zeros([NaN]), ValueError, /^zeros: .*\[NaN\]/],
  ['zeros Infinity', () => ignis.zeros([Infinity]), ValueError, /^zeros: .*\[Infinity\]/],
  ['zeros string size', () => ignis.zeros(['2'] as never), ValueError, /^zeros: sizes must be non-negative integers/],
  ['ones NaN', () => ignis.ones(NaN), ValueError, /^ones: .*NaN/],
  ['empty negative', () => ignis.empty([3, -2]), ValueError, /^empty: .*\[3, -2\]/],
  ['randn negative', () => ignis.randn([-3]), ValueError, /^randn: .*\[-3\]/],
  ['randn NaN', () => ignis.randn([NaN]), ValueError, /^randn: .*NaN/],
  ['randn fractional', () => ignis.randn(2.5), ValueError, /^randn: .*2\.5/],
  ['reshape -2', () => z(2, 3).reshape([-2, 3]), ValueError, /^reshape: invalid shape dimension -2/],
  ['view fractional', () => z(2, 3).view([1.5, 4]), ValueError, /^view: invalid shape dimension 1\.5/],
  ['expand negative', () => z(1, 3).expand([-2, 3]), ValueError, /^expand: invalid size -2/],
  ['arange step 0', () => ignis.arange(0, 5, 0), ValueError, /^arange: step must be nonzero/],
  ['arange wrong direction', () => ignis.arange(5, 0, 1), ValueError, /^arange: .*start 5, end 0, step 1/],
  ['linspace negative steps', () => ignis.linspace(0, 1, -1), ValueError, /^linspace: .*-1/],
  ['randint low >= high', () => ignis.randint(5, 2, [3]), ValueError, /^randint: expected low < high, got low=5, high=2/],
  ['full NaN into int64', () => ignis.full([2], NaN, { dtype: 'int64' }), [ValueError, DTypeError], /^full: .*NaN/],
  ['manualSeed negative', () => ignis.manualSeed(-1), ValueError, /^manualSeed: .*-1/],
  ['tensor with a string', () => ignis.tensor(['a'] as never), ValueError, /^tensor: expected numbers or booleans, got string/],
  ['tensor with null', () => ignis.tensor([1, null] as never), ValueError, /^tensor: .*null at position 1/],
  ['cat empty list', () => ignis.cat([]), ValueError, /^cat: expected a non-empty list/],
  ['chunk 0', () => z(5).chunk(0), ValueError, /^chunk: chunks must be positive, got 0/],
  ['slice step 0', () => z(5).slice(0, 0, 5, 0), ValueError, /^slice: step must be greater than zero/],
  ['uniform_ low > high', () => z(3).uniform_(2, 1), ValueError, /^uniform_: .*low=2, high=1/],
  ['bernoulli p > 1', () => ignis.bernoulli([3], 2), ValueError, /^bernoulli: p must be in \[0, 1\], got 2/],
  ['non-tensor operand', () => ignis.exp([1, 2] as never), ValueError, /^exp: expected input to be a Tensor, got array\(2\)/],

  // ---- dtypes --------------------------------------------------------------------------------
  ['matmul float32 x float64', () => z(2, 3).matmul(ignis.zeros([3, 2], { dtype: 'float64' })), DTypeError, /^matmul: .*float32 \[2, 3\] and float64 \[3, 2\]/],
  ['matmul bool', () => ignis.matmul(ignis.zeros([2, 2], { dtype: 'bool' }), ignis.zeros([2, 2], { dtype: 'bool' })), DTypeError, /^matmul: bool/],
  ['unknown dtype in zeros', () => ignis.zeros([2], { dtype: 'float16' as never }), DTypeError, /^zeros: unknown dtype "float16"; expected one of float32/],
  ['unknown dtype in to', () => z(2).to('complex64' as never), DTypeError, /^to: unknown dtype "complex64"/],
  ['unknown dtype in tensor', () => ignis.tensor([1], { dtype: 'int8' as never }), DTypeError, /^tensor: unknown dtype "int8"/],
  ['unsupported typed array', () => ignis.tensor(new Int16Array(4) as never), DTypeError, /^tensor: unsupported typed array Int16Array/],
  ['bool subtraction', () => ignis.tensor([true]).sub(ignis.tensor([false])), DTypeError, /^sub: subtraction with two bool tensors/],
  ['where float condition', () => ignis.where(z(2), z(2), 1), DTypeError, /^where: expected condition to be a bool tensor, got float32/],
  ['gather int32 index', () => z(2, 3).gather(1, ignis.tensor([[0, 1]], { dtype: 'int32' })), DTypeError, /^gather: expected index to be int64, got int32/],
  ['maskedFill float mask', () => z(2).maskedFill(z(2), 1), DTypeError, /^maskedFill: expected mask to be a bool tensor, got float32/],
  ['in-place float into int64', () => ignis.zeros([2], { dtype: 'int64' }).add_(0.5), DTypeError, /^add_: result type float32 can't be cast to .* int64/],
  ['fill_ fraction into int64', () => ignis.zeros([2], { dtype: 'int64' }).fill_(0.5), DTypeError, /^fill_: value 0\.5 .*int64/],
  ['randn int64', () => ignis.randn([2], { dtype: 'int64' }), DTypeError, /^randn: expected a floating dtype, got int64/],
  ['normal_ on int64', () => ignis.zeros([3], { dtype: 'int64' }).normal_(), DTypeError, /^normal_: expected a floating tensor, got int64/],
  ['clamp with no bounds', () => z(5).clamp(), DTypeError, /^clamp: at least one of 'min' or 'max'/],

  // ---- dims and indices ----------------------------------------------------------------------
  ['select index out of range', () => z(2, 3).select(1, 3), IndexError, /^select: index 3 is out of bounds for dimension 1 with size 3/],
  ['select dim out of range', () => z(2, 3).select(2, 0), IndexError, /^select: dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)/],
  ['select on 0-d', () => z().select(0, 0), IndexError, /^select: .*0-dim/],
  ['narrow past the end', () => z(2, 3).narrow(1, 2, 2), IndexError, /^narrow: start \(2\) \+ length \(2\) exceeds dimension size \(3\) of shape \[2, 3\]/],
  ['gather index too large', () => z(2, 3).gather(1, ignis.tensor([[0, 5], [1, 1]])), IndexError, /^gather: index 5 is out of bounds for dimension with size 3/],
  ['gather negative index', () => z(2, 3).gather(1, ignis.tensor([[0, -1], [1, 1]])), IndexError, /^gather: index -1 is out of bounds/],
  ['scatter index too large', () => z(2, 3).scatter(1, ignis.tensor([[0, 3]]), 1), IndexError, /^scatter: index 3 is out of bounds for dimension with size 3/],
  ['scatterAdd index too large', () => z(2, 3).scatterAdd(0, ignis.tensor([[7, 0]]), ignis.ones([1, 2])), IndexError, /^scatter(Add|_add): index 7 is out of bounds for dimension with size 2/],
  ['indexSelect out of range', () => z(3).indexSelect(0, ignis.tensor([5])), IndexError, /index 5 is out of bounds .*size 3/],
  ['permute repeated dim', () => z(2, 3).permute([0, 0]), IndexError, /^permute: repeated dim in \[0, 0\]/],
  ['permute wrong count', () => z(2, 3).permute([0]), ShapeError, /^permute: number of dims don't match: .*\[2, 3\]/],
  ['squeeze dim out of range', () => z(2, 3).squeeze(5), IndexError, /^squeeze: dimension out of range .*got 5/],
  ['unsqueeze dim out of range', () => z(2, 3).unsqueeze(4), IndexError, /^unsqueeze: dimension out of range \(expected to be in range of \[-3, 2\], but got 4\)/],
  ['transpose dim out of range', () => z(2, 3).transpose(0, 2), IndexError, /^transpose: dimension out of range/],
  ['sum dim out of range', () => z(2, 3).sum(3), IndexError, /^sum: dimension out of range .*got 3/],
  ['mean repeated dims', () => z(3).mean([0, 0]), IndexError, /^mean: dim 0, 0 appears multiple times/],
  ['softmax dim out of range', () => z(3).softmax(2), IndexError, /^softmax: dimension out of range/],
  ['size(dim) out of range', () => z(3).size(3), IndexError, /^size: dimension out of range/],
  ['flatten start > end', () => z(2, 3, 4).flatten(2, 1), IndexError, /^flatten: startDim 2 cannot come after endDim 1/],
  ['index too many', () => z(5).index(0, 0), IndexError, /^index: too many indices for tensor of dimension 1/],
  ['index bad slice', () => z(5).index('a:b'), IndexError, /^index: cannot parse slice 'a:b'/],
  ['oneHot negative class', () => ignis.oneHot(ignis.tensor([-1, 0])), IndexError, /^oneHot: class values must be non-negative/],
  ['oneHot class >= numClasses', () => ignis.oneHot(ignis.tensor([3]), 2), IndexError, /^oneHot: .*numClasses \(2\), got 3/],

  // ---- disposed tensors ----------------------------------------------------------------------
  ['add on disposed', () => disposed().add(1), DisposedError, /^add: input 0 has been disposed/],
  ['disposed as second operand', () => z(2, 3).mul(disposed()), DisposedError, /^mul: input 1 has been disposed/],
  ['matmul with disposed', () => ignis.ones([3, 3]).matmul(disposed([3, 3])), DisposedError, /disposed/],
  ['toArray on disposed', () => disposed().toArray(), DisposedError, /^toArray: tensor has been disposed/],
  ['dataSync on disposed', () => disposed().dataSync(), DisposedError, /^data: tensor has been disposed/],
  ['item on disposed', () => disposed([1]).item(), DisposedError, /^item: tensor has been disposed/],
  ['view of a disposed base', () => { const t = z(2, 2); const v = t.select(0, 0); t.dispose(); return v.sum(); }, DisposedError, /^sum: input 0 has been disposed/],
  ['in-place on disposed', () => disposed().add_(1), DisposedError, /^add_: tensor has been disposed/],
  ['contiguous of disposed', () => disposed().t().contiguous(), DisposedError, /disposed/],

  // ---- memory / device -----------------------------------------------------------------------
  ['empty 2^40 x 2^10', () => ignis.empty([2 ** 40, 2 ** 10]), [MemoryError, ValueError], /^empty: .*(1099511627776, 1024|bytes)/],
  ['empty 2^30 x 2^15 float32', () => ignis.empty([2 ** 30, 2 ** 15]), [MemoryError, ValueError], /^empty: cannot allocate \d+/],
  ['zeros 2^23 x 2^23', () => ignis.zeros([2 ** 23, 2 ** 23]), [MemoryError, ValueError], /too large|cannot allocate|too many/],
  ['randn 2^44', () => ignis.randn([2 ** 44]), [MemoryError, ValueError], /randn|random/],
  // without CUDA, any cuda device; with it (the GPU machine, the CUDA emulator), one that does not exist
  ['zeros on cuda', () => ignis.zeros([2], { device: noCuda }), DeviceError, /^zeros: (the CUDA backend is not available|cuda:99 does not exist)/],
  ['to(cuda)', () => z(2).to(noCuda), DeviceError, /^to: (the CUDA backend is not available|cuda:99 does not exist)/],
  ['tensor on cuda', () => ignis.tensor([1, 2], { device: noCuda }), DeviceError, /^tensor: (the CUDA backend|cuda:99 does not exist)/],
  ['unknown device', () => ignis.zeros([2], { device: 'tpu' as never }), DeviceError, /^zeros: unknown device "tpu"/],

  // ---- autograd ------------------------------------------------------------------------------
  ['backward on non-scalar', () => leaf([2]).mul(2).backward(), AutogradError, /^backward: grad can be implicitly created only for scalar outputs \(got shape \[2\]\)/],
  ['backward without grad', () => ignis.ones([1]).backward(), AutogradError, /^backward: element 0 of tensors does not require grad/],
  ['backward twice', () => { const x = leaf(); const y = x.mul(x).sum(); y.backward(); y.backward(); }, AutogradError, /^mul: trying to backward through the graph a second time.*retainGraph/],
  ['in-place on a leaf requiring grad', () => leaf().add_(1), AutogradError, /^add_: a leaf Variable that requires grad is being used in an in-place operation/],
  ['saved tensor modified in place', () => { const a = leaf().mul(1); const y = a.mul(a).sum(); a.add_(1); y.backward(); }, AutogradError, /^mul: one of the variables needed for gradient computation has been modified by an inplace operation: \[float32 \[2\]\] is at version 1; expected version 0/],
  ['saved output modified in place', () => { const y = leaf().mul(1).exp(); y.mul_(2); y.sum().backward(); }, AutogradError, /^exp: .*modified by an inplace operation/],
  ['requiresGrad on int64 tensor', () => ignis.tensor([1, 2], { requiresGrad: true }), AutogradError, /^requiresGrad: only floating point tensors can require gradients \(got int64\)/],
  ['requiresGrad_ on bool tensor', () => ignis.tensor([true]).requiresGrad_(), AutogradError, /\(got bool\)/],
  ['requiresGrad=false on non-leaf', () => { leaf().mul(2).requiresGrad = false; }, AutogradError, /only change requiresGrad flags of leaf/],
  ['grad of unused input', () => { const x = leaf(); const w = leaf(); return ignis.autograd.grad(x.mul(2).sum(), [w]); }, AutogradError, /^grad: input 0 was not used in the graph; set allowUnused/],
  ['grad wrt non-grad input', () => ignis.autograd.grad(leaf().sum(), [ignis.ones([1])]), AutogradError, /^grad: input 0 does not require grad/],
  ['registerHook without grad', () => z(3).registerHook((g) => g), AutogradError, /^registerHook: .*doesn't require gradient/],
  ['retainGrad without grad', () => z(3).retainGrad(), AutogradError, /^retainGrad: /],
];

describe('errors: typed, descriptive, never a crash', () => {
  it('has a table of at least 60 bad calls', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CASES.map((c) => c[0])).size).toBe(CASES.length);
  });

  it('error classes are all IgnisError subclasses with their own names', () => {
    for (const C of [ShapeError, DTypeError, DeviceError, IndexError, ValueError, MemoryError, DisposedError, AutogradError]) {
      const e = new C('x');
      expect(e).toBeInstanceOf(IgnisError);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(C.name);
    }
  });

  it.each(CASES)('%s', (_name, fn, cls, msg) => {
    let err: unknown = null;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err, 'expected a throw').not.toBeNull();
    expect(err).toBeInstanceOf(IgnisError);
    const classes = Array.isArray(cls) ? cls : [cls];
    expect(
      classes.some((C) => err instanceof C),
      `got ${(err as Error).constructor.name}: ${(err as Error).message}`,
    ).toBe(true);
    expect((err as Error).message).toMatch(msg);
  });

  it('the process is healthy after the table (ops, readback, autograd, memory accounting)', () => {
    const before = ignis.memory().cpu;
    const a = ignis.tensor([[1, 2], [3, 4]], { dtype: 'float32' });
    const b = ignis.tensor([[5, 6], [7, 8]], { dtype: 'float32' });
    expect(a.matmul(b).toArray()).toEqual([[19, 22], [43, 50]]);
    expect(a.add(b).sum().item()).toBe(36);
    const x = ignis.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    x.mul(x).sum().backward();
    expect(x.grad!.toArray()).toEqual([2, 4, 6]);
    // a large allocation still works after the refused ones, and frees
    const big = ignis.ones([1 << 20]);
    expect(big.sum().item()).toBe(1 << 20);
    big.dispose();
    const after = ignis.memory().cpu;
    expect(after.bytes).toBeGreaterThanOrEqual(0);
    expect(after.tensors).toBeGreaterThanOrEqual(0);
    expect(after.bytes).toBeLessThan(before.bytes + 64 * 1024 * 1024);
  });
});
