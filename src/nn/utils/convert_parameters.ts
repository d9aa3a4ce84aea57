/** torch.nn.utils.parameters_to_vector / vector_to_parameters. */
import { noGrad } from '../../autograd/mode';
import { ShapeError, ValueError } from '../../errors';
import * as ops from '../../ops/all';
import { Tensor } from '../../tensor';
import { Params, paramList } from './clip_grad';

/** All parameters flattened and concatenated into one 1-D tensor (differentiable, like PyTorch's). */
export function parametersToVector(parameters: Params): Tensor {
  const ps = paramList(parameters, 'parametersToVector');
  if (!ps.length) throw new ValueError('parametersToVector: no parameters given');
  return ops.cat(ps.map((p) => ops.reshape(p, [-1])));
}

/** Copies consecutive slices of a 1-D vector into the parameters (in place, not recorded by autograd). */
export function vectorToParameters(vec: Tensor, parameters: Params): void {
  if (!(vec instanceof Tensor)) throw new ValueError(`vectorToParameters: expected vec to be a Tensor, got ${typeof vec}`);
  if (vec.ndim !== 1) throw new ShapeError(`vectorToParameters: expected a 1-D vector, got shape [${vec.shape.join(', ')}]`);
  const ps = paramList(parameters, 'vectorToParameters');
  const total = ps.reduce((n, p) => n + p.numel, 0);
  if (total !== vec.numel) throw new ShapeError(`vectorToParameters: the vector has ${vec.numel} elements, the parameters ${total}`);
  noGrad(() => {
    let off = 0;
    for (const p of ps) {
      p.copy_(ops.reshape(ops.narrow(vec, 0, off, p.numel), p.shape as number[]));
      off += p.numel;
    }
  });
}
