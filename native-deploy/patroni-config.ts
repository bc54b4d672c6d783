/**
 * patroni-config renders the bare-metal database tier of a pipeline: Patroni's configuration for
 * each Postgres host and etcd's for each DCS voter. Pure: spec and topology in, documents out.
 *
 * Patroni owns failover: the leader holds a key in etcd with a TTL and renews it every loop; a
 * leader that cannot renew demotes itself, and a replica promotes only once the key is gone (and,
 * in synchronous mode, only if it is the synchronous standby). Secrets are never rendered: the
 * unit reads them from an environment file (PATRONI_SUPERUSER_PASSWORD, …).
 */
import {
  dynamicConfig,
  PATRONI_TIMINGS,
  PATRONI_USERS,
} from "../operator/postgres/patroni-settings.ts";
import type { TradingPipeline } from "../services/core/spec/index.ts";

export { dynamicConfig, PATRONI_TIMINGS, PATRONI_USERS };

export interface HaHost {
  /** Member name (Patroni `name`, etcd `--name`); a DNS label. */
  name: string;
  /** Address other hosts and clients reach this host on. */
  address: string;
}

export interface PatroniTopology {
  /** Postgres hosts, each running Patroni (two in the standard layout). */
  dbHosts: HaHost[];
  /** etcd voters (three: the two Postgres hosts and a witness). */
  etcdHosts: HaHost[];
  /** Debian: /usr/lib/postgresql/<major>/bin. */
  pgBinDir: string;
  /** Parent of each pipeline's data directory; default /var/lib/postgresql/tradepipe. */
  dataRoot?: string;
  /** Each Postgres host's TLS directory (server.crt, server.key, ca.crt); default patroniTlsDir. */
  tlsDir?: string;
  /** Ports; defaults 5432, 8008, 2379, 2380. */
  pgPort?: number;
  restApiPort?: number;
  etcdClientPort?: number;
  etcdPeerPort?: number;
}

/** PortsOf overrides per member, for tests that run every member on one machine. */
export interface MemberPorts {
  pgPort: number;
  restApiPort: number;
  /** etcd endpoints this member uses (host:port); default every voter's client port. */
  etcdEndpoints?: string[];
  /**
   * The endpoints are proxies (no member discovery). Tests put a TCP proxy they control between a
   * member and etcd, to cut that member off from the DCS alone.
   */
  etcdUseProxies?: boolean;
  dataDir?: string;
  /** Directory of the Unix socket; default Debian's /var/run/postgresql. */
  socketDir?: string;
  /** Directory of the member's TLS files; default patroniTlsDir(p). */
  tlsDir?: string;
}

export const PATRONI_DEFAULTS = {
  pgPort: 5432,
  restApiPort: 8008,
  etcdClientPort: 2379,
  etcdPeerPort: 2380,
  dataRoot: "/var/lib/postgresql/tradepipe",
} as const;

/** patroniScope is the cluster's name in the DCS (one per pipeline). */
export function patroniScope(p: TradingPipeline): string {
  return `tradepipe-${p.metadata.name}`;
}

/**
 * patroniTlsDir is where a Postgres host keeps its TLS files (`tradepipe certs server --out`):
 * server.crt and server.key (0600, owned by postgres) and ca.crt, the CA every member and every
 * client verifies the others against.
 */
export function patroniTlsDir(p: TradingPipeline): string {
  return `/etc/patroni/${patroniScope(p)}-tls`;
}

/**
 * patroniHba: TLS only. Connections without it are rejected before authentication, from
 * anywhere; with it, replication only from the database hosts and SCRAM for everything. The
 * Unix socket (`local`) stays for the host's own administrators.
 */
export function patroniHba(dbHosts: readonly HaHost[]): string[] {
  return [
    "local all all scram-sha-256",
    "hostnossl all all 0.0.0.0/0 reject",
    "hostnossl all all ::/0 reject",
    "hostnossl replication all 0.0.0.0/0 reject",
    "hostnossl replication all ::/0 reject",
    ...dbHosts.map(
      (h) => `hostssl replication ${PATRONI_USERS.replication} ${cidr(h.address)} scram-sha-256`,
    ),
    "hostssl all all 0.0.0.0/0 scram-sha-256",
    "hostssl all all ::/0 scram-sha-256",
  ];
}

/** The environment variables a Patroni member needs (values live in a 0600 file). */
export const PATRONI_SECRET_ENV = [
  "PATRONI_SUPERUSER_PASSWORD",
  "PATRONI_REPLICATION_PASSWORD",
  "PATRONI_REWIND_PASSWORD",
] as const;

/** renderPatroniConfig is the Patroni YAML (as an object) for one Postgres host. */
export function renderPatroniConfig(
  p: TradingPipeline,
  topology: PatroniTopology,
  host: HaHost,
  ports?: MemberPorts,
): Record<string, unknown> {
  const pgPort = ports?.pgPort ?? topology.pgPort ?? PATRONI_DEFAULTS.pgPort;
  const restPort = ports?.restApiPort ?? topology.restApiPort ?? PATRONI_DEFAULTS.restApiPort;
  const etcdPort = topology.etcdClientPort ?? PATRONI_DEFAULTS.etcdClientPort;
  const dataRoot = topology.dataRoot ?? PATRONI_DEFAULTS.dataRoot;
  const endpoints =
    ports?.etcdEndpoints ?? topology.etcdHosts.map((h) => `${h.address}:${etcdPort}`);
  const hba = patroniHba(topology.dbHosts);
  const tlsDir = ports?.tlsDir ?? topology.tlsDir ?? patroniTlsDir(p);
  // Patroni's own connections (its checks, replication, pg_rewind, pg_basebackup) verify the
  // member they reach as any client does: the CA signature and the host name.
  const verified = { sslmode: "verify-full", sslrootcert: `${tlsDir}/ca.crt` };
  return {
    scope: patroniScope(p),
    namespace: "/service/",
    name: host.name,
    restapi: {
      listen: `${host.address}:${restPort}`,
      connect_address: `${host.address}:${restPort}`,
    },
    etcd3: {
      hosts: endpoints,
      ...(ports?.etcdUseProxies ? { use_proxies: true } : {}),
    },
    bootstrap: {
      dcs: dynamicConfig(p),
      initdb: [{ encoding: "UTF8" }, { locale: "C" }, "data-checksums"],
    },
    postgresql: {
      listen: `${host.address}:${pgPort}`,
      connect_address: `${host.address}:${pgPort}`,
      data_dir: ports?.dataDir ?? `${dataRoot}/${p.metadata.name}`,
      bin_dir: topology.pgBinDir,
      pgpass: `${ports?.dataDir ?? `${dataRoot}/${p.metadata.name}`}.pgpass`,
      authentication: {
        superuser: { username: PATRONI_USERS.superuser, ...verified },
        replication: { username: PATRONI_USERS.replication, ...verified },
        rewind: { username: PATRONI_USERS.rewind, ...verified },
      },
      pg_hba: hba,
      // IMPORTANT: a failed rewind must never wipe a data directory (it may hold the only copy
      // of acknowledged writes); an operator decides, with the member stopped.
      remove_data_directory_on_rewind_failure: false,
      remove_data_directory_on_diverged_timelines: false,
      create_replica_methods: ["basebackup"],
      basebackup: [{ checkpoint: "fast" }],
      parameters: {
        unix_socket_directories: ports?.socketDir ?? "/var/run/postgresql",
        ssl: "on",
        ssl_cert_file: `${tlsDir}/server.crt`,
        ssl_key_file: `${tlsDir}/server.key`,
        ssl_min_protocol_version: "TLSv1.2",
      },
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
    // A leader whose Patroni hangs or dies must not outlive its key: the kernel watchdog resets
    // the host safety_margin seconds before the key expires (`automatic`: used when present).
    watchdog: { mode: "automatic", device: "/dev/watchdog", safety_margin: 5 },
    log: { level: "INFO" },
  };
}

/** renderEtcdEnv is etcd's configuration for one voter, as an environment file (ETCD_*). */
export function renderEtcdEnv(p: TradingPipeline, topology: PatroniTopology, host: HaHost): string {
  const client = topology.etcdClientPort ?? PATRONI_DEFAULTS.etcdClientPort;
  const peer = topology.etcdPeerPort ?? PATRONI_DEFAULTS.etcdPeerPort;
  const cluster = topology.etcdHosts.map((h) => `${h.name}=http://${h.address}:${peer}`).join(",");
  const lines = [
    `# Generated by \`tradepipe render systemd\` from pipeline ${p.metadata.name}; do not edit.`,
    "# etcd voter of the Patroni DCS. Three voters survive the loss of any one host.",
    `ETCD_NAME=${host.name}`,
    `ETCD_DATA_DIR=/var/lib/etcd/${patroniScope(p)}`,
    `ETCD_LISTEN_CLIENT_URLS=http://${host.address}:${client},http://127.0.0.1:${client}`,
    `ETCD_ADVERTISE_CLIENT_URLS=http://${host.address}:${client}`,
    `ETCD_LISTEN_PEER_URLS=http://${host.address}:${peer}`,
    `ETCD_INITIAL_ADVERTISE_PEER_URLS=http://${host.address}:${peer}`,
    `ETCD_INITIAL_CLUSTER=${cluster}`,
    `ETCD_INITIAL_CLUSTER_TOKEN=${patroniScope(p)}`,
    "ETCD_INITIAL_CLUSTER_STATE=new",
    "# Heartbeat and election timeout (ms): a lost etcd leader is replaced in about a second,",
    "# well inside Patroni's retry_timeout.",
    "ETCD_HEARTBEAT_INTERVAL=100",
    "ETCD_ELECTION_TIMEOUT=1000",
    "ETCD_AUTO_COMPACTION_MODE=periodic",
    "ETCD_AUTO_COMPACTION_RETENTION=1h",
  ];
  return `${lines.join("\n")}\n`;
}

/** parseHosts reads `name=address,name=address`; errors name what is wrong. */
export function parseHosts(flag: string, value: string): HaHost[] {
  const hosts = value.split(",").map((item) => {
    const m = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)=([^\s=,]+)$/.exec(item.trim());
    if (!m) throw new Error(`--${flag}: "${item}" is not name=address (name: a DNS label)`);
    return { name: m[1]!, address: m[3]! };
  });
  const names = new Set(hosts.map((h) => h.name));
  if (names.size !== hosts.length) throw new Error(`--${flag}: a name appears twice`);
  return hosts;
}

/** validateTopology refuses layouts that cannot fail over safely. */
export function validateTopology(t: PatroniTopology): void {
  if (t.dbHosts.length < 1) throw new Error("--db-hosts: at least one Postgres host");
  if (t.etcdHosts.length % 2 === 0)
    throw new Error(
      `--etcd-hosts: ${t.etcdHosts.length} voters; use an odd number (3 survives one loss; an even number adds no tolerance)`,
    );
}

function cidr(address: string): string {
  if (address.includes(":")) return `${address}/128`;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(address)) return `${address}/32`;
  return address; // a host name: Postgres resolves it
}
