// Answers for the cluster zone and the cluster's reverse names, with CoreDNS's
// semantics: positive answers from the index (templates cached per name and
// type), NODATA (NOERROR, SOA in authority) for names that exist without the
// asked type, NXDOMAIN for names that do not exist, and pod records
// `a-b-c-d.<ns>.pod.<zone>` for any well-formed address ("pods insecure").
// The search-path misses of `ndots:5` (`example.com.<ns>.svc.<zone>`, …) are
// one Map miss and one precomputed NXDOMAIN: no encoding, one buffer copy.
import type { Answer } from 'dns-packet';
import { bareReply, type Encoded, encodeReply, FLAG, finishReply, RCODE, soaTail } from './message.ts';
import { dottedName, ipFromDashed, ipFromReverse, wireKey } from './names.ts';
import type { Query } from './query.ts';
import { RECORD_TTL, TYPE } from './records.ts';
import type { ClusterDnsIndex, NameEntry } from './zone-index.ts';

/** SOA timers as CoreDNS's kubernetes plugin gives them (refresh 2 h, retry 30 min, expire 1 day); minimum = the record TTL. */
const SOA_REFRESH = 7200;
const SOA_RETRY = 1800;
const SOA_EXPIRE = 86400;
/** CNAME chains inside the zone are followed at most this far (CoreDNS: 10). */
const MAX_CNAME_CHAIN = 10;
const CLASS_IN = 1;
const REVERSE_SUFFIX = wireKey('in-addr.arpa');

/** What the cluster zone says about a query: a finished reply, an external CNAME target to chase upstream, or not ours. */
export type ClusterAnswer = Buffer | { cname: Answer; target: string } | undefined;

type CachedChain = { generation: number; enc: Encoded; target?: string; cname?: Answer };

export class ClusterResolver {
  #index: ClusterDnsIndex;
  #soaTail: Buffer;
  #soaSerial = -1;
  #chaseExternal: boolean;
  /** ".pod.<zone>": the tail a pod record's parent (`<ns>.pod.<zone>`) ends with. */
  #podSuffix: string;
  /** `pod.<zone>` as a wire key: only names ending so can be pod records (the search-path misses skip the namespace lookup). */
  #podKey: string;

  /** `chaseExternal`: ExternalName targets outside the zone are returned for the caller to resolve upstream (else the CNAME alone is the answer). */
  constructor(index: ClusterDnsIndex, options: { chaseExternal: boolean }) {
    this.#index = index;
    this.#chaseExternal = options.chaseExternal;
    this.#podSuffix = `.pod.${index.zone}`;
    this.#podKey = wireKey(`pod.${index.zone}`);
    this.#soaTail = this.#buildSoaTail();
  }

  #buildSoaTail(): Buffer {
    this.#soaSerial = this.#index.serial;
    return soaTail(this.#soaData());
  }

  #soaData() {
    const z = this.#index.zone;
    return {
      ttl: RECORD_TTL,
      mname: `ns.dns.${z}`,
      rname: `hostmaster.${z}`,
      serial: this.#index.serial,
      refresh: SOA_REFRESH,
      retry: SOA_RETRY,
      expire: SOA_EXPIRE,
      minimum: RECORD_TTL,
    };
  }

  /** Where the zone starts within a wire key (a label boundary), or -1 when the name is outside the zone. */
  zoneOffset(key: string): number {
    const zoneKey = this.#index.zoneKey;
    if (!key.endsWith(zoneKey)) return -1;
    const target = key.length - zoneKey.length;
    let i = 0;
    while (i < target) i += key.charCodeAt(i) + 1;
    return i === target ? i : -1;
  }

  answer(q: Query, limit: number): ClusterAnswer {
    if (q.qclass !== CLASS_IN) return undefined;
    const at = this.zoneOffset(q.key);
    if (at < 0) return q.qtype === TYPE.PTR && q.key.endsWith(REVERSE_SUFFIX) ? this.#reverse(q, limit) : undefined;
    if (this.#soaSerial !== this.#index.serial) this.#soaTail = this.#buildSoaTail();
    const entry = this.#index.lookupKey(q.key);
    if (!entry) return this.#missing(q, at, limit);
    if (entry.data.cname) return this.#cname(q, entry, limit);
    if (q.qtype === TYPE.SOA && at === 0) {
      const soa: Answer = { name: entry.name, type: 'SOA', ttl: RECORD_TTL, class: 'IN', data: this.#soaData() };
      return finishReply(encodeReply(this.#question(q), { flags: FLAG.AA, rcode: 0, answer: [soa] }), q, limit);
    }
    // The template first: a hit is then one lookup past the name.
    const cached = entry.replies.get(q.qtype) as Encoded | undefined;
    if (cached) return finishReply(cached, q, limit);
    const set = entry.data.sets.get(q.qtype);
    if (!set) return this.#negative(q, RCODE.NOERROR, at);
    const enc = encodeReply(this.#question(q), { flags: FLAG.AA, rcode: 0, answer: set.answer, additional: set.additional });
    entry.replies.set(q.qtype, enc);
    return finishReply(enc, q, limit);
  }

  /** The question as it appears in templates: lower case, so one template serves every spelling. */
  #question(q: Query): Buffer {
    const out = Buffer.allocUnsafe(q.qEnd - 12);
    out.write(q.key, 0, 'latin1');
    q.packet.copy(out, q.qnameEnd - 12, q.qnameEnd, q.qEnd);
    return out;
  }

  #negative(q: Query, rcode: number, zoneAt: number): Buffer {
    return bareReply(q, { flags: FLAG.AA, rcode, tail: this.#soaTail, ownerAt: 12 + zoneAt });
  }

  /** A name the index does not hold: a pod record if well formed, else NXDOMAIN. */
  #missing(q: Query, zoneAt: number, limit: number): Buffer {
    const key = q.key;
    if (!key.endsWith(this.#podKey)) return this.#negative(q, RCODE.NXDOMAIN, zoneAt);
    const first = key.charCodeAt(0);
    const rest = key.slice(first + 1);
    // `<a-b-c-d>.<ns>.pod.<zone>`: the rest must be an existing namespace's pod subdomain.
    const restEntry = first > 0 && rest.length > 1 ? this.#index.lookupKey(rest) : undefined;
    if (restEntry?.name.endsWith(this.#podSuffix)) {
      const ip = ipFromDashed(key.slice(1, first + 1));
      if (ip) {
        const v6 = ip.includes(':');
        if (q.qtype !== (v6 ? TYPE.AAAA : TYPE.A)) return this.#negative(q, RCODE.NOERROR, zoneAt);
        const rr: Answer = { name: dottedName(key), type: v6 ? 'AAAA' : 'A', ttl: RECORD_TTL, class: 'IN', data: ip };
        return finishReply(encodeReply(this.#question(q), { flags: FLAG.AA, rcode: 0, answer: [rr] }), q, limit);
      }
    }
    return this.#negative(q, RCODE.NXDOMAIN, zoneAt);
  }

  #reverse(q: Query, limit: number): ClusterAnswer {
    const ip = ipFromReverse(dottedName(q.key));
    const targets = ip ? this.#index.ptr(ip) : [];
    if (!targets.length) return undefined;
    const name = dottedName(q.key);
    const answer: Answer[] = targets.map((data) => ({ name, type: 'PTR', ttl: RECORD_TTL, class: 'IN', data }));
    return finishReply(encodeReply(this.#question(q), { flags: FLAG.AA, rcode: 0, answer }), q, limit);
  }

  /** ExternalName: the CNAME, then the target's records when the target is in the zone (or upstream's, by the caller). */
  #cname(q: Query, entry: NameEntry, limit: number): ClusterAnswer {
    const generation = this.#index.generation;
    const cached = entry.replies.get(q.qtype) as CachedChain | undefined;
    if (cached && cached.generation === generation) {
      return cached.target && cached.cname && this.#chaseExternal
        ? { cname: cached.cname, target: cached.target }
        : finishReply(cached.enc, q, limit);
    }
    const answer: Answer[] = [];
    let current: NameEntry | undefined = entry;
    let external: string | undefined;
    for (let hop = 0; current && hop < MAX_CNAME_CHAIN; hop++) {
      const target: string | undefined = current.data.cname;
      if (!target) {
        answer.push(...(current.data.sets.get(q.qtype)?.answer ?? []));
        break;
      }
      answer.push({ name: current.name, type: 'CNAME', ttl: RECORD_TTL, class: 'IN', data: target });
      if (q.qtype === TYPE.CNAME) break;
      const targetKey = wireKey(target);
      if (this.zoneOffset(targetKey) < 0) {
        external = target;
        break;
      }
      current = this.#index.lookupKey(targetKey);
    }
    const enc = encodeReply(this.#question(q), { flags: FLAG.AA, rcode: 0, answer });
    const chase = external && answer.length === 1 ? { cname: answer[0], target: external } : undefined;
    entry.replies.set(q.qtype, { generation, enc, ...chase } satisfies CachedChain);
    return chase && this.#chaseExternal ? chase : finishReply(enc, q, limit);
  }

  /** The reply for an ExternalName whose target was resolved upstream: the CNAME, then upstream's answers. */
  chasedReply(q: Query, cname: Answer, upstreamAnswers: Answer[], limit: number): Buffer {
    const enc = encodeReply(this.#question(q), { flags: FLAG.AA, rcode: 0, answer: [cname, ...upstreamAnswers] });
    return finishReply(enc, q, limit);
  }

  /** REFUSED, FORMERR, SERVFAIL…: header and question only. */
  static error(q: Query, rcode: number): Buffer {
    return bareReply(q, { flags: 0, rcode });
  }
}
