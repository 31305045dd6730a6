// Helpers for the node agent's e2e tests.
import { get } from 'node:http';

/** GET with a lenient parser (the test image's busybox httpd CGI ends header lines with a bare LF); undefined unless 200. */
export function httpGet(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { insecureHTTPParser: true, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}
