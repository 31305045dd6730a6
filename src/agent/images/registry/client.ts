// One registry endpoint and repository, with the distribution spec's auth
// dance: a request answered 401 with `WWW-Authenticate: Bearer realm,service,
// scope` is retried with a token from the realm (asked for with our Basic
// credentials or identity token, or anonymously); `Basic` challenges get the
// credentials directly.
import { ImageError } from '../errors.ts';
import { type HttpResponse, parseChallenge, request, type TlsOptions } from './http.ts';

export type Credential = { username?: string; password?: string; identityToken?: string };

/** Token responses are tiny JSON documents. */
const TOKEN_LIMIT = 1 << 20;
/** Docker's client id for OAuth refresh-token requests; registries only log it. */
const OAUTH_CLIENT_ID = 'skiff';

export class RegistrySession {
  #base: string;
  #repository: string;
  #credential: Credential | undefined;
  #tls: TlsOptions | undefined;
  #signal: AbortSignal | undefined;
  #authorization: string | undefined;

  constructor(options: { endpoint: string; repository: string; credential?: Credential; tls?: TlsOptions; signal?: AbortSignal }) {
    this.#base = options.endpoint.replace(/\/+$/, '').replace(/\/v2$/, '');
    this.#repository = options.repository;
    this.#credential = options.credential;
    this.#tls = options.tls;
    this.#signal = options.signal;
  }

  get endpoint(): string {
    return this.#base;
  }

  /** GET /v2/<repository>/<path>, authenticating on a 401 challenge. Non-2xx answers become ImageErrors. */
  async get(path: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
    const url = `${this.#base}/v2/${this.#repository}/${path}`;
    const send = () =>
      request(url, {
        headers: { ...headers, ...(this.#authorization ? { authorization: this.#authorization } : {}) },
        tls: this.#tls,
        signal: this.#signal,
      });
    let res = await send();
    if (res.status === 401) {
      const challenge = parseChallenge(firstHeader(res.headers['www-authenticate']));
      res.body.resume();
      this.#authorization = await this.#authorize(challenge);
      res = await send();
    }
    if (res.status >= 200 && res.status < 300) return res;
    const detail = (await res.text().catch(() => '')).slice(0, 300);
    res.body.destroy();
    if (res.status === 401 || res.status === 403) {
      throw new ImageError('Unauthorized', `${url}: ${res.status} ${this.#credential ? 'credentials refused' : 'authentication required'} ${detail}`.trim());
    }
    if (res.status === 404) throw new ImageError('NotFound', `${url}: not found ${detail}`.trim());
    throw new ImageError('PullFailed', `${url}: HTTP ${res.status} ${detail}`.trim());
  }

  async #authorize(challenge: ReturnType<typeof parseChallenge>): Promise<string> {
    const cred = this.#credential;
    const basic = cred?.username !== undefined ? `Basic ${Buffer.from(`${cred.username}:${cred.password ?? ''}`).toString('base64')}` : undefined;
    if (challenge?.scheme === 'basic') {
      if (!basic) throw new ImageError('Unauthorized', `${this.#base} wants a username and password`);
      return basic;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw new ImageError('Unauthorized', `${this.#base}: unsupported authentication challenge`);
    }
    const realm = new URL(challenge.params.realm);
    const scope = challenge.params.scope ?? `repository:${this.#repository}:pull`;
    let res: HttpResponse;
    if (cred?.identityToken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: cred.identityToken,
        service: challenge.params.service ?? '',
        scope,
        client_id: OAUTH_CLIENT_ID,
      });
      res = await request(realm.toString(), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
        tls: this.#tls,
        signal: this.#signal,
      });
    } else {
      if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
      realm.searchParams.set('scope', scope);
      res = await request(realm.toString(), { headers: basic ? { authorization: basic } : {}, tls: this.#tls, signal: this.#signal });
    }
    const body = await res.buffer(TOKEN_LIMIT);
    if (res.status === 401 || res.status === 403) throw new ImageError('Unauthorized', `token server ${realm.host} refused: ${res.status}`);
    if (res.status !== 200) throw new ImageError('PullFailed', `token server ${realm.host}: HTTP ${res.status}`);
    const json = JSON.parse(body.toString()) as { token?: string; access_token?: string };
    const token = json.token ?? json.access_token;
    if (!token) throw new ImageError('PullFailed', `token server ${realm.host} returned no token`);
    return `Bearer ${token}`;
  }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
