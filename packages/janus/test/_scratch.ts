import Janus, { type JanusJS } from 'janus-gateway';
import type { Monitor } from '@callmetry/core';
import { attachJanus, instrumentJanus } from '../src/index';
export function typeCheck(session: Janus, handle: JanusJS.PluginHandle, monitor: Monitor): void {
  attachJanus(session, monitor, { handles: [handle], conferenceID: (h, info) => info.room ?? String(h.id) });
  instrumentJanus(Janus, monitor);
}
