// The ingest sink of guide 003 (POST /api/v2/events/ingest): schema, dedup window, batching and
// sending, audit trail. genesys-events-out is the Node-RED face of it.
export { ingestEventKey, canonicalInstant, validateIngestEvent, ingestEventSchema, type IngestEvent, type EventProblem } from './schema';
export { IngestBatcher, splitBatch, type Batch } from './batcher';
export { IngestSender, type IngestSenderOptions, type SenderStats } from './sender';
export { IngestDedup, type IngestDedupOptions } from './dedup';
export { IngestPipeline, InvalidPayloadError, prepareEvents, type PreparedEvents, type SubmitResult, type EventProblemAt } from './pipeline';
export { AuditFile, type AuditFileOptions } from './audit-log';
export { bodyBytes, INGEST_PATH, IngestError, type AuditRecord, type EventOutcome, type IngestErrorKind, type QueuedEvent } from './types';
