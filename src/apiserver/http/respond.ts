// Writing responses: JSON objects, Status errors, Warning headers.
import type { ServerResponse } from 'node:http';
import { toStatus } from '../../api/errors.ts';

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  options: { contentType?: string; warnings?: string[] } = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const payload = JSON.stringify(body);
  const headers: Record<string, string | string[] | number> = {
    'Content-Type': options.contentType ?? 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-cache, private',
  };
  if (options.warnings?.length) headers.Warning = options.warnings.map(warningHeader);
  res.writeHead(code, headers);
  res.end(payload);
}

/** RFC 7234 warning with code 299 ("miscellaneous persistent warning"), as the apiserver sends. */
export function warningHeader(message: string): string {
  return `299 - ${JSON.stringify(message.replace(/[\r\n]+/g, ' '))}`;
}

export function sendError(res: ServerResponse, err: unknown, warnings?: string[]): void {
  const status = toStatus(err);
  sendJson(res, status.code, status, { warnings });
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
