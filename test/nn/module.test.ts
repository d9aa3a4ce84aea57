/**
 * nn.Module API: discovery of parameters / children (fields, nested, arrays, containers),
 * buffers, stateDict round trip and strict loading errors, train/eval, hooks, apply, zeroGrad,
 * requiresGrad_, to(dtype), toString and summary.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';

const { nn, F } = ignis;

class Block extends nn.Module {
  conv = new nn.Conv2d(2, 4, 3, { padding: 1 });
  bn = new nn.BatchNorm2d(4);
  forward(x: Tensor): Tensor {
    return F.relu(this.bn.call(this.conv.call(x)));
  }
}

class Net extends nn.Module {
  fc1 = new nn.Linear(4, 8);
  act = new nn.ReLU();
  heads = new nn.ModuleList([new nn.Linear(8, 2), new nn.Linear(8, 3)]);
  extra = [new nn.Linear(3, 1)]; // plain arrays of modules are discovered too
  scale: ignis.nn.Parameter;
  notAModule = 42;
  constructor() {
    super();
    this.scale = new nn.Parameter(ignis.ones([1]));
    this.registerBuffer('steps', ignis.zeros([1]));
  }
  forward(x: Tensor): Tensor {
    const h = this.act.call(this.fc1.call(x));
    return this.extra[0].call(this.heads.at(1).call(h)).mul(this.scale);
  }
}

const keys = (m: ignis.nn.Module): string[] => [...m.namedParameters()].map(([k]) => k);

describe('discovery', () => {
  it('finds parameters in fields, nested modules, ModuleList and arrays, in declaration order', () => {
    const n = new Net();
    expect(keys(n)).toEqual([
      'scale', 'fc1.weight', 'fc1.bias', 'heads.0.weight', 'heads.0.bias', 'heads.1.weight', 'heads.1.bias',
      'extra.0.weight', 'extra.0.bias',
    ]);
    expect(keys(n)).toHaveLength(9);
    expect(n.parameters()).toHaveLength(9);
    expect(n.numParameters()).toBe(4 * 8 + 8 + 8 * 2 + 2 + 8 * 3 + 3 + 3 + 1 + 1);
    expect([...n.namedChildren()].map(([k]) => k)).toEqual(['fc1', 'act', 'heads', 'extra.0']);
    expect([...n.namedModules()].map(([k]) => k)).toEqual(['', 'fc1', 'act', 'heads', 'heads.0', 'heads.1', 'extra.0']);
    expect([...n.modules()]).toHaveLength(7);
    expect([...n.children()]).toHaveLength(4);
    expect(n.parameters(false)).toEqual([n.scale]);
    expect([...n.namedBuffers()].map(([k]) => k)).toEqual(['steps']);
    expect(n.getSubmodule('heads.1')).toBe(n.heads.at(1));
    expect(n.getParameter('fc1.bias')).toBe(n.fc1.bias);
    expect(() => n.getSubmodule('nope')).toThrow(/no submodule 'nope'/);
  });

  it('a shared module / parameter is listed once', () => {
    const l = new nn.Linear(2, 2);
    const s = new nn.Sequential(l, new nn.ReLU(), l);
    expect(s.parameters()).toHaveLength(2);
    expect([...s.modules()]).toHaveLength(3);
  });

  it('buffers of nested batch norm layers, in stateDict order (params then buffers per module)', () => {
    const b = new Block();
    expect(Object.keys(b.stateDict())).toEqual([
      'conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'bn.runningMean', 'bn.runningVar', 'bn.numBatchesTracked',
    ]);
    expect(b.buffers()).toHaveLength(3);
  });

  it('non-persistent buffers are not in stateDict', () => {
    class M extends nn.Module {
      constructor() {
        super();
        this.registerBuffer('a', ignis.zeros([2]));
        this.registerBuffer('b', ignis.zeros([2]), false);
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const m = new M();
    expect(Object.keys(m.stateDict())).toEqual(['a']);
    expect(m.buffers()).toHaveLength(2);
  });
});

describe('containers', () => {
  it('Sequential from modules, from a list, named; indexable', () => {
    const a = new nn.Linear(3, 4);
    const s1 = new nn.Sequential(a, new nn.ReLU(), new nn.Linear(4, 2));
    const s2 = new nn.Sequential([a, new nn.ReLU()]);
    const s3 = new nn.Sequential({ fc: a, act: new nn.Tanh() });
    expect(s1.length).toBe(3);
    expect(s1.at(0)).toBe(a);
    expect(s1.get(-1)).toBeInstanceOf(nn.Linear);
    expect(s2.length).toBe(2);
    expect(s3.get('fc')).toBe(a);
    expect(Object.keys(s3.stateDict())).toEqual(['fc.weight', 'fc.bias']);
    expect(Object.keys(s1.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(() => s1.at(3)).toThrow(ignis.IndexError);
    const y = s1.call(ignis.randn([5, 3])) as Tensor;
    expect(y.shape).toEqual([5, 2]);
    s1.append(new nn.Softmax(1));
    expect(s1.length).toBe(4);
    expect([...s1]).toHaveLength(4);
    expect(s1.slice(0, 2).length).toBe(2);
  });

  it('ModuleList and ModuleDict register their modules', () => {
    const ml = new nn.ModuleList([new nn.Linear(2, 2)]);
    ml.append(new nn.Linear(2, 3));
    expect(ml.parameters()).toHaveLength(4);
    expect(() => ml.forward()).toThrow(/no forward/);
    const md = new nn.ModuleDict({ b: new nn.Linear(1, 1), a: new nn.Linear(1, 2), r: new nn.ReLU() });
    expect(md.keys()).toContain('a');
    expect(md.get('a')).toBeInstanceOf(nn.Linear);
    expect(Object.keys(md.stateDict())).toEqual(['b.weight', 'b.bias', 'a.weight', 'a.bias']);
    expect(md.parameters()).toHaveLength(4);
    const pl = new nn.ParameterList([ignis.zeros([2]), ignis.ones([3])]);
    expect([...pl.namedParameters()].map(([k]) => k)).toEqual(['0', '1']);
  });
});

describe('stateDict / loadStateDict', () => {
  it('round trip copies values, keeps Parameter identity', () => {
    ignis.manualSeed(1);
    const a = new Net();
    const b = new Net();
    const w = b.fc1.weight;
    b.loadStateDict(a.stateDict());
    expect(b.fc1.weight).toBe(w);
    expect(b.fc1.weight.toArray()).toEqual(a.fc1.weight.toArray());
    expect(b.heads.at(1).parameters()[1].toArray()).toEqual(a.heads.at(1).parameters()[1].toArray());
    const x = ignis.randn([2, 4]);
    expect((b.call(x) as Tensor).toArray()).toEqual((a.call(x) as Tensor).toArray());
    // the state dict shares memory and is detached
    const sd = a.stateDict();
    expect(sd['fc1.weight'].requiresGrad).toBe(false);
  });

  it('strict loading lists missing, unexpected and mismatched keys', () => {
    const m = new nn.Sequential(new nn.Linear(2, 3), new nn.Linear(3, 1));
    const sd = m.stateDict();
    const bad: Record<string, Tensor> = { ...sd, 'extra.weight': ignis.zeros([1]) };
    delete bad['1.bias'];
    let err: unknown;
    try {
      m.loadStateDict(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(nn.StateDictError);
    expect(err).toBeInstanceOf(ignis.ValueError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/Error\(s\) in loading state_dict for Sequential/);
    expect(msg).toMatch(/Missing key\(s\) in state_dict: "1\.bias"/);
    expect(msg).toMatch(/Unexpected key\(s\) in state_dict: "extra\.weight"/);
    const r = m.loadStateDict(bad, { strict: false });
    expect(r).toEqual({ missingKeys: ['1.bias'], unexpectedKeys: ['extra.weight'] });
    const mism = { ...sd, '0.weight': ignis.zeros([3, 3]) };
    expect(() => m.loadStateDict(mism, { strict: false })).toThrow(
      /size mismatch for 0\.weight: copying a param with shape \[3, 3\] from checkpoint, the shape in current model is \[3, 2\]/,
    );
  });

  it('buffers are loaded', () => {
    const a = new Block();
    const b = new Block();
    a.bn.runningMean!.fill_(0.5);
    b.loadStateDict(a.stateDict());
    expect(b.bn.runningMean!.toArray()).toEqual([0.5, 0.5, 0.5, 0.5]);
  });
});

describe('modes, grads, dtype', () => {
  it('train()/eval() reach every submodule; dropout is identity in eval', () => {
    const s = new nn.Sequential(new nn.Linear(4, 4), new nn.Dropout(0.5));
    expect(s.training).toBe(true);
    s.eval();
    expect([...s.modules()].every((m) => !m.training)).toBe(true);
    const x = ignis.randn([3, 4]);
    expect((s.call(x) as Tensor).toArray()).toEqual((s.at(0).call(x) as Tensor).toArray());
    s.train();
    expect(s.at(1).training).toBe(true);
    ignis.manualSeed(3);
    const y = s.at(1).call(ignis.ones([1000])) as Tensor;
    const vals = y.toArray() as number[];
    expect(vals.every((v) => v === 0 || v === 2)).toBe(true);
    const kept = vals.filter((v) => v === 2).length;
    expect(kept).toBeGreaterThan(400);
    expect(kept).toBeLessThan(600);
  });

  it('zeroGrad (setToNone default, or zero), requiresGrad_', () => {
    const l = new nn.Linear(3, 2);
    (l.call(ignis.randn([4, 3])) as Tensor).sum().backward();
    expect(l.weight.grad).not.toBeNull();
    l.zeroGrad({ setToNone: false });
    expect(l.weight.grad!.abs().sum().item()).toBe(0);
    l.zeroGrad();
    expect(l.weight.grad).toBeNull();
    l.requiresGrad_(false);
    expect(l.parameters().every((p) => !p.requiresGrad)).toBe(true);
    const y = l.call(ignis.randn([1, 3])) as Tensor;
    expect(y.requiresGrad).toBe(false);
  });

  it('apply visits children first then the module', () => {
    const s = new nn.Sequential(new nn.Linear(2, 2), new nn.Sequential(new nn.ReLU()));
    const seen: string[] = [];
    s.apply((m) => seen.push(m.constructor.name));
    expect(seen).toEqual(['Linear', 'ReLU', 'Sequential', 'Sequential']);
    s.apply((m) => {
      if (m instanceof nn.Linear) nn.init.zeros_(m.weight);
    });
    expect((s.at(0) as ignis.nn.Linear).weight.abs().sum().item()).toBe(0);
  });

  it('to(dtype) converts params and buffers in place; a missing cuda device is a DeviceError', () => {
    const b = new Block();
    const w = b.conv.weight;
    b.to('float64');
    expect(b.conv.weight).toBe(w);
    expect(w.dtype).toBe('float64');
    expect(w.requiresGrad).toBe(true);
    expect(b.bn.runningVar!.dtype).toBe('float64');
    expect(b.bn.numBatchesTracked!.dtype).toBe('int64');
    b.double().float();
    expect(w.dtype).toBe('float32');
    expect(() => b.to(ignis.cuda.isAvailable() ? 'cuda:99' : 'cuda')).toThrow(ignis.DeviceError);
    expect(b.to('cpu')).toBe(b);
  });
});

describe('hooks', () => {
  it('forward pre-hooks can replace inputs, forward hooks can replace outputs, handles remove', () => {
    const l = new nn.Identity();
    const calls: string[] = [];
    const h1 = l.registerForwardPreHook((_m, inp) => {
      calls.push('pre');
      return [(inp[0] as Tensor).mul(2)];
    });
    const h2 = l.registerForwardHook((_m, inp, out) => {
      calls.push('post');
      expect((inp[0] as Tensor).toArray()).toEqual([2]);
      return (out as Tensor).add(1);
    });
    expect((l.call(ignis.tensor([1])) as Tensor).toArray()).toEqual([3]);
    expect(calls).toEqual(['pre', 'post']);
    h1.remove();
    h2.remove();
    h2.remove();
    expect((l.call(ignis.tensor([1])) as Tensor).toArray()).toEqual([1]);
  });
});

describe('printing', () => {
  it('prints the module tree like PyTorch', () => {
    class Small extends nn.Module {
      conv1 = new nn.Conv2d(1, 32, 3);
      pool = new nn.MaxPool2d(2);
      drop = new nn.Dropout(0.25);
      body = new nn.Sequential(new nn.Flatten(), new nn.Linear(32, 10, { bias: false }));
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(new Small().toString()).toBe(
      [
        'Small(',
        '  (conv1): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))',
        '  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)',
        '  (drop): Dropout(p=0.25, inplace=False)',
        '  (body): Sequential(',
        '    (0): Flatten(start_dim=1, end_dim=-1)',
        '    (1): Linear(in_features=32, out_features=10, bias=False)',
        '  )',
        ')',
      ].join('\n'),
    );
    expect(String(new nn.BatchNorm2d(32))).toBe('BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)');
    expect(String(new nn.LayerNorm(10))).toBe('LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True)');
    expect(String(new nn.Conv2d(4, 8, 3, { stride: 2, padding: 1, groups: 2, bias: false }))).toBe(
      'Conv2d(4, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), groups=2, bias=False)',
    );
    expect(String(new nn.Embedding(10, 3, { paddingIdx: 0 }))).toBe('Embedding(10, 3, padding_idx=0)');
    expect(String(new nn.CrossEntropyLoss())).toBe('CrossEntropyLoss()');
    const ml = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 2), new nn.Linear(2, 2), new nn.ReLU()]);
    expect(String(ml)).toBe(
      'ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n  (3): ReLU()\n)',
    );
  });
});

describe('summary', () => {
  it('lists layers in call order with output shapes and parameter counts; restores modes', () => {
    const m = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Dropout(0.1), new nn.Linear(8, 2));
    m.train();
    const r = nn.summary(m, [3, 4], { print: false });
    expect(r.rows.map((x) => [x.name, x.type, x.outputShape, x.params])).toEqual([
      ['0', 'Linear', [3, 8], 40],
      ['1', 'ReLU', [3, 8], 0],
      ['2', 'Dropout', [3, 8], 0],
      ['3', 'Linear', [3, 2], 18],
    ]);
    expect(r.totalParams).toBe(58);
    expect(r.trainableParams).toBe(58);
    expect(r.text).toMatch(/Total params: 58/);
    expect(r.text).toMatch(/3 \(Linear\)\s+\[3, 2\]\s+18/);
    expect(String(r)).toBe(r.text);
    expect(m.training).toBe(true);
    expect(m.at(0)._hooks).toHaveLength(0);
  });

  it('nested user modules are indented', () => {
    class N extends nn.Module {
      body = new nn.Sequential(new nn.Linear(2, 3));
      head = new nn.Linear(3, 1);
      forward(x: Tensor): Tensor {
        return this.head.call(this.body.call(x));
      }
    }
    const n = new N();
    n.head.requiresGrad_(false);
    const r = nn.summary(n, [1, 2], { print: false });
    expect(r.rows.map((x) => x.name)).toEqual(['body', 'body.0', 'head']);
    expect(r.trainableParams).toBe(9);
    expect(r.totalParams).toBe(13);
    expect(r.text).toMatch(/Non-trainable params: 4/);
  });
});
