/** The update rule: a per-cell MLP (1x1 convs) from perception to a state change; last layer zero. */
import type { ParamSpec } from './params.ts';

export function updateParams(inWidth: number, hidden: number[], outWidth: number): ParamSpec[] {
  const specs: ParamSpec[] = [];
  let w = inWidth;
  hidden.forEach((h, i) => {
    specs.push({ name: `update.${i}.kernel`, shape: [w, h], init: 'glorot', receptive: 1 });
    specs.push({ name: `update.${i}.bias`, shape: [h], init: 'zeros', receptive: 1 });
    w = h;
  });
  // Zero-initialised last layer: the NCA starts as the identity map (reference models).
  specs.push({ name: 'update.out.kernel', shape: [w, outWidth], init: 'zeros', receptive: 1 });
  specs.push({ name: 'update.out.bias', shape: [outWidth], init: 'zeros', receptive: 1 });
  return specs;
}
