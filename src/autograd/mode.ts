/** Global autograd switches. */
export const mode = { grad: true };

/** Runs fn with gradient recording off (torch.no_grad). Works with sync and async functions. */
export function noGrad<T>(fn: () => T): T {
  const prev = mode.grad;
  mode.grad = false;
  try {
    return fn();
  } finally {
    mode.grad = prev;
  }
}

/** Runs fn with gradient recording on, e.g. inside noGrad (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  const prev = mode.grad;
  mode.grad = true;
  try {
    return fn();
  } finally {
    mode.grad = prev;
  }
}

export function isGradEnabled(): boolean {
  return mode.grad;
}

export function setGradEnabled(on: boolean): void {
  mode.grad = on;
}
