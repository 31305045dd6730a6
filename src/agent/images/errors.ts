// Typed image errors. `reason` lets the kubelet choose the waiting reason it
// reports (InvalidImageName, ErrImagePull, ...) without parsing messages.

export type ImageErrorReason =
  /** The reference does not parse (kubelet: InvalidImageName). */
  | 'InvalidImageName'
  /** No such image locally, or the registry has no such manifest or blob. */
  | 'NotFound'
  /** The registry refused our credentials (or asked for some we lack). */
  | 'Unauthorized'
  /** Content did not hash to the digest that named it. */
  | 'DigestMismatch'
  /** A tarball that is not a docker-archive or OCI archive, or is inconsistent. */
  | 'InvalidArchive'
  /** A layer entry would land outside the layer (`../`, symlink escapes). */
  | 'UnsafePath'
  /** No manifest for this platform in a manifest list / index. */
  | 'NoMatchingPlatform'
  /** Anything else that went wrong talking to a registry. */
  | 'PullFailed'
  /** The image is used by a container. */
  | 'InUse';

export class ImageError extends Error {
  readonly reason: ImageErrorReason;
  constructor(reason: ImageErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageError';
    this.reason = reason;
  }
}

export function isImageError(err: unknown, reason?: ImageErrorReason): err is ImageError {
  return err instanceof ImageError && (reason === undefined || err.reason === reason);
}
