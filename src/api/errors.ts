// Typed API errors. Code inside throws these; the HTTP edge turns them into a
// Kubernetes Status in one place (toStatus).
import type { GroupResource, Status, StatusCause, StatusDetails } from './types.ts';

export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
}

function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

function detailsOf(gr: GroupResource, name: string): StatusDetails {
  return { name, group: gr.group || undefined, kind: gr.resource };
}

export const errors = {
  notFound: (gr: GroupResource, name: string) =>
    new ApiError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, detailsOf(gr, name)),
  /** A path the server does not serve at all (unknown resource, group or document). */
  notFoundPath: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}),
  alreadyExists: (gr: GroupResource, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, detailsOf(gr, name)),
  conflict: (gr: GroupResource, name: string, why: string) =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`,
      detailsOf(gr, name),
    ),
  /** 422 with one cause per bad field; `kind` is the Kind, e.g. "Deployment". */
  invalid: (group: string, kind: string, name: string, causes: StatusCause[]) => {
    const list = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
    const what = group ? `${kind}.${group}` : kind;
    const summary = causes.length === 1 ? list : `[${list}]`;
    return new ApiError(422, 'Invalid', `${what} "${name}" is invalid: ${summary}`, {
      name,
      group: group || undefined,
      kind,
      causes,
    });
  },
  badRequest: (message: string, causes?: StatusCause[]) =>
    new ApiError(400, 'BadRequest', message, causes ? { causes } : undefined),
  unauthorized: () => new ApiError(401, 'Unauthorized', 'Unauthorized'),
  forbidden: (message: string) => new ApiError(403, 'Forbidden', message),
  methodNotAllowed: (message = 'the server does not allow this method on the requested resource') =>
    new ApiError(405, 'MethodNotAllowed', message),
  notAcceptable: (message: string) => new ApiError(406, 'NotAcceptable', message),
  gone: (message: string) => new ApiError(410, 'Expired', message),
  tooLarge: (message = 'the request entity is too large') => new ApiError(413, 'RequestEntityTooLarge', message),
  unsupportedMediaType: (contentType: string) =>
    new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${contentType})`),
  tooManyRequests: (message: string, retryAfterSeconds = 1) =>
    new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds }),
  internal: (message: string) => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`),
  serviceUnavailable: (message: string) => new ApiError(503, 'ServiceUnavailable', message),
  timeout: (message: string) => new ApiError(504, 'Timeout', message),
};

export function statusOf(code: number, reason: string, message: string, details?: StatusDetails): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 400 ? 'Success' : 'Failure',
    message,
    reason,
    details,
    code,
  };
}

export function toStatus(err: unknown): Status {
  if (err instanceof ApiError) return statusOf(err.code, err.reason, err.message, err.details);
  const message = err instanceof Error ? err.message : String(err);
  return statusOf(500, 'InternalError', `Internal error occurred: ${message}`);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}
