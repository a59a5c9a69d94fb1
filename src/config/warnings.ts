import type { SourceLocation } from '../errors/config-error.js';

/**
 * The stable code of a warning: something that is valid but probably not what was meant. Warnings never
 * stop a run. See `docs/errors.md`.
 */
export type ConfigWarningCode =
  /** An empty key followed by keys that look like its children, written one level too far left. */
  | 'DEDENTED_KEYS'
  /** A key of a Mage file that neither Mage nor k8s-executor reads, and that is no typo of one: ignored. */
  | 'IGNORED_KEY'
  /** A Kubernetes block whose Job has no command: the image's own entrypoint would run. */
  | 'NO_COMMAND'
  /** A pipeline whose `uuid:` is not its folder's name: Mage (and k8s-executor) use the folder. */
  | 'PIPELINE_UUID_MISMATCH';

/** Something valid that is probably not what was meant. */
export interface ConfigWarning {
  /** Stable code. */
  code: ConfigWarningCode;
  /** Path in the user's own spelling. */
  path: string;
  /** What looks wrong and what to do. */
  message: string;
  /** The file and line, when known. */
  location?: SourceLocation;
}
