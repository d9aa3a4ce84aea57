/**
 * Activations by name: the built-in table plus user-defined ones (ignis.defineActivation).
 * `nn.activation(name, opts)` and everything that takes an activation name resolve through here.
 */
import { ValueError } from '../errors';
import type { Tensor } from '../tensor';
import { ACTIVATIONS, ActivationRow } from './table';

export interface CustomActivation {
  name: string;
  /** forward(x, params) with tensor ops (autograd differentiates it) */
  forward: (x: Tensor, params: Record<string, number>) => Tensor;
  params: Record<string, number>;
  row: ActivationRow;
}

const custom = new Map<string, CustomActivation>();

/** canonical key: lower case without '_' so 'leaky_relu', 'leakyRelu' and 'LeakyReLU' agree */
const key = (n: string): string => n.toLowerCase().replace(/_/g, '');
const BUILTIN = new Map<string, ActivationRow>();
for (const r of ACTIVATIONS) {
  BUILTIN.set(key(r.name), r);
  BUILTIN.set(key(r.module), r);
  BUILTIN.set(key(r.fn), r);
}

export function names(): string[] {
  return [...ACTIVATIONS.map((r) => r.name), ...custom.keys()];
}

export function lookup(name: string): { row: ActivationRow; custom?: CustomActivation } {
  if (typeof name !== 'string') throw new ValueError(`activation: expected a name, got ${typeof name}`);
  const c = custom.get(name) ?? custom.get(key(name));
  if (c) return { row: c.row, custom: c };
  const r = BUILTIN.get(key(name));
  if (!r) throw new ValueError(`unknown activation '${name}'; valid names: ${names().join(', ')}`);
  return { row: r };
}

/** The table row of an activation: parameters, formula, derivative, range, paper... */
export function info(name: string): ActivationRow {
  return lookup(name).row;
}

export function registerCustom(a: CustomActivation): void {
  if (BUILTIN.has(key(a.name))) throw new ValueError(`defineActivation: '${a.name}' is a built-in activation`);
  custom.set(a.name, a);
  custom.set(key(a.name), a);
}

export function unregisterCustom(name: string): boolean {
  const c = custom.get(name);
  if (!c) return false;
  custom.delete(c.name);
  custom.delete(key(c.name));
  return true;
}
