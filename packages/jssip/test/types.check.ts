// Compile-time check (tsc, `npm run typecheck`): the real JsSIP 3.13 classes are assignable to the
// adapter's local structural types, so `attachJsSip(new JsSIP.UA(...), monitor)` type-checks.
import type { UA } from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession';
import type { JsSipRTCSessionLike, JsSipUALike } from '../src/index';
export const ua = (u: UA): JsSipUALike => u;
export const s = (x: RTCSession): JsSipRTCSessionLike => x;
