/** AdamW: Adam with decoupled weight decay (p ← p − p·wd·lr before the Adam step; Keras' default wd 0.004). */
import { Adam, type AdamArgs } from './adam.js';

export class AdamW extends Adam {
  override readonly className = 'AdamW';
  constructor(args: AdamArgs = {}) {
    super({ ...args, weightDecay: args.weightDecay ?? 0.004 }, 'AdamW');
  }
}
