import Janus, { type JanusJS } from 'janus-gateway';
import type { JanusSessionLike, JanusPluginHandleLike } from '../src/index';
export function a(session: Janus): JanusSessionLike { return session; }
export function b(h: JanusJS.PluginHandle): JanusPluginHandleLike { return h; }
