/** JSON schemas of the API (validation and the OpenAPI document) and the JSON forms of stored rows. */
import type { Incident } from '../core/incidents/incident.js';
import { INCIDENT_STATUSES } from '../core/incidents/incident.js';
import { SEVERITIES } from '../core/detect/detector.js';
import type { Project, TemplateRow, VolumeRow } from '../adapters/store/vigil-store.js';
import { errorSchema } from './errors.js';
import { incidentSummary } from './incident-feed.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export const projectSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    notifications: { type: 'object', additionalProperties: true },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'name', 'notifications', 'createdAt'],
} as const;

export const projectJson = (p: Project) => ({ id: p.id, name: p.name, notifications: p.notifications, createdAt: p.createdAt.toISOString() });

export const incidentSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    source: { type: 'string' },
    signature: { type: 'string', description: 'what groups the records: the template id' },
    title: { type: 'string', description: 'the template, secrets masked' },
    severity: { type: 'string', enum: [...SEVERITIES] },
    status: { type: 'string', enum: [...INCIDENT_STATUSES] },
    occurrences: { type: 'integer' },
    bursts: { type: 'integer', description: 'runs of occurrences less than the dedup window apart' },
    firstSeen: { type: 'string', format: 'date-time' },
    lastSeen: { type: 'string', format: 'date-time' },
    samples: {
      type: 'array',
      description: 'the newest occurrences (at most 10), secrets masked',
      items: {
        type: 'object',
        properties: {
          time: { type: 'string', format: 'date-time' },
          message: { type: 'string' },
          reason: { type: 'string' },
          score: { type: 'number' },
          detectors: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    milestones: {
      type: 'array',
      items: { type: 'object', properties: { occurrences: { type: 'integer' }, at: { type: 'string', format: 'date-time' } } },
    },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

/** An incident as the API returns it: its summary (as the live stream sends it), samples and milestones. */
export const incidentJson = (i: Incident) => ({
  ...incidentSummary(i),
  samples: i.samples.map((s) => ({ time: iso(s.timeMs), message: s.message, reason: s.reason, score: s.score, detectors: s.detectors })),
  milestones: i.milestones.map((m) => ({ occurrences: m.occurrences, at: iso(m.atMs) })),
});

export const templateSchema = {
  type: 'object',
  properties: {
    source: { type: 'string' },
    templateId: { type: 'string' },
    template: { type: 'string' },
    count: { type: 'integer' },
    firstSeen: { type: 'string', format: 'date-time' },
    lastSeen: { type: 'string', format: 'date-time' },
  },
} as const;

export const templateJson = (t: TemplateRow) => ({ source: t.source, templateId: t.templateId, template: t.template, count: t.count, firstSeen: t.firstSeen.toISOString(), lastSeen: t.lastSeen.toISOString() });

export const volumeSchema = {
  type: 'object',
  properties: { minute: { type: 'string', format: 'date-time' }, records: { type: 'integer' }, anomalies: { type: 'integer' }, errors: { type: 'integer' } },
} as const;

export const volumeJson = (v: VolumeRow) => ({ minute: v.minute.toISOString(), records: v.records, anomalies: v.anomalies, errors: v.errors });

/** Error replies every route may give. */
export const errorResponses = { '4xx': errorSchema, '5xx': errorSchema } as const;

export const idParams = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } as const;

/** A source name: what shippers put in `?source=` (a service, a file, a host). */
export const SOURCE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$';

export const security = { apiKeyOrSession: [{ apiKey: [] }, { bearer: [] }], apiKey: [{ apiKey: [] }], session: [{ bearer: [] }] } as const;
