// Kubernetes Events (events.k8s.io/v1) about a SoftTenant. SoftTenants are cluster-scoped, so
// their Events live in the `default` namespace, as client-go's recorder does it; `kubectl
// describe softtenant` and `kubectl events --for` find them through `regarding`. An Event seen
// again is not created again: its `series` is updated (controller/recorder.ts decides when).
// Events are outside the process's request limit and connections: the recorder gives them a
// budget of their own.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeAccess } from './config.js';
import { API_VERSION, FIELD_MANAGER, KIND } from '../api/softtenant.js';
import type { EventRecord, EventRef, EventSeries } from '../controller/client.js';
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

export function eventObject(event: EventRecord, now: Date, instance: string): Record<string, unknown> {
  const meta = event.regarding;
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

const eventsPath = `/apis/events.k8s.io/v1/namespaces/${EVENT_NAMESPACE}/events`;

export async function createEvent(kc: KubeAccess, event: EventRecord, now: Date): Promise<EventRef> {
  const body = eventObject(event, now, `${FIELD_MANAGER}-${hostname()}`);
  const created = await kubeCall(`recording event ${event.reason} for ${KIND} ${event.regarding.name}`, () =>
    requestJson<{ metadata: { name: string; namespace?: string } }>(
      kc,
      'POST',
      eventsPath,
      body,
      'application/json',
      { ownBudget: true },
    ),
  );
  return { namespace: created.metadata.namespace ?? EVENT_NAMESPACE, name: created.metadata.name };
}

/** The merge patch of an Event's series (the only field that changes when it is seen again). */
export function seriesPatch(series: EventSeries): Record<string, unknown> {
  return { series: { count: series.count, lastObservedTime: microTime(series.lastObservedTime) } };
}

export async function updateEventSeries(kc: KubeAccess, ref: EventRef, series: EventSeries): Promise<void> {
  await kubeCall(`updating the series of event ${ref.namespace}/${ref.name}`, () =>
    requestJson(
      kc,
      'PATCH',
      `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(ref.namespace)}/events/${encodeURIComponent(ref.name)}`,
      seriesPatch(series),
      'application/merge-patch+json',
      { ownBudget: true },
    ),
  );
}
