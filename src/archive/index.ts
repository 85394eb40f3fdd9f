/**
 * Archive inspection and extraction: what import, pull and deploy use to
 * read model archives without trusting them. See docs/archives.md.
 */
export { ArchiveInspector, inspectArchive } from './inspect.js';
export { extractArchive } from './extract.js';
export { parseModelType, REQUIREMENTS } from './required-files.js';
export type { RefusalReason } from './refuse.js';
export {
  DEFAULT_LIMITS,
  MODEL_TYPES,
  type ArchiveLimits,
  type ArchiveReport,
  type ExtractOptions,
  type ExtractReport,
  type InspectOptions,
  type ManifestEntry,
  type ModelFormat,
  type ModelType,
} from './types.js';
