// Sprig v3's TxtFuncMap as Helm registers it (without env/expandenv).
import type { FuncMap } from '../template-set.ts';

export interface SprigOptions {
  /** Random source in [0, 1) for rand* functions, shuffle and uuidv4. */
  random?: () => number;
  /** Clock for now/ago/date defaults. */
  now?: () => Date;
}

export function sprigFunctions(_options: SprigOptions = {}): FuncMap {
  return {};
}
