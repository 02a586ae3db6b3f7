// Kubernetes Events (events.k8s.io/v1) about a SoftTenant. SoftTenants are cluster-scoped, so
// their Events live in the `default` namespace, as client-go's recorder does it; `kubectl
// describe softtenant` and `kubectl events --for` find them through `regarding`.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeAccess } from './config.js';
import { API_VERSION, FIELD_MANAGER, KIND } from '../api/softtenant.js';
import type { TenantEvent } from '../controller/client.js';
import { kubeCall } from './errors.js';
import { requestJson } from './raw-request.js';

export const EVENT_NAMESPACE = 'default';
const NOTE_LIMIT = 1024;

/**
 * metav1.MicroTime: RFC 3339 with exactly six fractional digits. (The typed EventsV1Api would
 * send Date.toISOString()'s three digits, which the API server does not accept as MicroTime,
 * which is why events go through the raw request path like every other write.)
 */
export function microTime(now: Date): string {
  return now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** <object>.<time><random> in hex, like client-go's names for Events; within the 253-character limit. */
export function eventName(object: string, now: Date): string {
  return `${object.slice(0, 225)}.${now.getTime().toString(16)}${randomBytes(4).toString('hex')}`;
}

export function eventObject(event: TenantEvent, now: Date, instance: string): Record<string, unknown> {
  const meta = event.tenant.metadata;
  const note = event.note.length > NOTE_LIMIT ? `${event.note.slice(0, NOTE_LIMIT - 3)}...` : event.note;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: eventName(meta.name, now), namespace: EVENT_NAMESPACE },
    eventTime: microTime(now),
    reportingController: FIELD_MANAGER,
    reportingInstance: instance,
    action: event.action,
    reason: event.reason,
    note,
    type: event.type,
    regarding: { apiVersion: API_VERSION, kind: KIND, name: meta.name, uid: meta.uid },
  };
}

export async function createEvent(kc: KubeAccess, event: TenantEvent, now: Date): Promise<void> {
  const body = eventObject(event, now, `${FIELD_MANAGER}-${hostname()}`);
  await kubeCall(`recording event ${event.reason} for ${KIND} ${event.tenant.metadata.name}`, () =>
    requestJson(kc, 'POST', `/apis/events.k8s.io/v1/namespaces/${EVENT_NAMESPACE}/events`, body),
  );
}
