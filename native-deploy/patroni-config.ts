/**
 * patroni-config renders the bare-metal database tier of a pipeline: Patroni's configuration for
 * each Postgres host and etcd's for each DCS voter. Pure: spec and topology in, documents out.
 *
 * Patroni owns failover: the leader holds a key in etcd with a TTL and renews it every loop; a
 * leader that cannot renew demotes itself, and a replica promotes only once the key is gone (and,
 * in synchronous mode, only if it is the synchronous standby). Secrets are never rendered: the
 * unit reads them from an environment file (PATRONI_SUPERUSER_PASSWORD, …).
 */
import type { TradingPipeline } from "../services/core/spec/index.ts";

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
}

/**
 * PATRONI_TIMINGS are the HA loop's timings, in seconds (see native-deploy/README.md).
 * IMPORTANT: Patroni requires loop_wait + 2 × retry_timeout ≤ ttl: a leader that cannot reach
 * the DCS gives up after retry_timeout and demotes itself before its key can expire, so no replica
 * is promoted while the old leader still accepts writes. Patroni refuses ttl < 20.
 */
export const PATRONI_TIMINGS = {
  /** Leader key lifetime: a crashed leader is replaced about this long after its last renewal. */
  ttl: 20,
  /** Seconds between HA loops; the leader renews its key each loop. */
  loopWait: 2,
  /** DCS and Postgres operations retried this long before the loop counts them failed. */
  retryTimeout: 5,
} as const;

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

/** Roles Patroni creates at bootstrap; their passwords come from the environment. */
export const PATRONI_USERS = {
  superuser: "postgres",
  replication: "replicator",
  rewind: "rewinder",
} as const;

/** The environment variables a Patroni member needs (values live in a 0600 file). */
export const PATRONI_SECRET_ENV = [
  "PATRONI_SUPERUSER_PASSWORD",
  "PATRONI_REPLICATION_PASSWORD",
  "PATRONI_REWIND_PASSWORD",
] as const;

/** dynamicConfig is what Patroni keeps in the DCS for the whole cluster (bootstrap.dcs). */
export function dynamicConfig(p: TradingPipeline): Record<string, unknown> {
  const sync = p.spec.database.synchronous && p.spec.database.instances >= 2;
  return {
    ttl: PATRONI_TIMINGS.ttl,
    loop_wait: PATRONI_TIMINGS.loopWait,
    retry_timeout: PATRONI_TIMINGS.retryTimeout,
    // A replica further behind than this is never promoted (async mode's bound on loss).
    maximum_lag_on_failover: 1_048_576,
    // Synchronous mode: a commit waits for the named synchronous standby, and only that standby
    // may be promoted. Not strict: with the standby gone the primary goes on alone (a second
    // failure could then lose writes); strict would stop commits instead.
    synchronous_mode: sync,
    synchronous_mode_strict: false,
    synchronous_node_count: 1,
    // With the DCS unreachable the leader demotes (failsafe mode would keep it primary).
    failsafe_mode: false,
    postgresql: {
      use_pg_rewind: true,
      use_slots: true,
      parameters: {
        wal_level: "replica",
        hot_standby: "on",
        wal_log_hints: "on",
        max_wal_senders: 10,
        max_replication_slots: 10,
        wal_keep_size: "256MB",
        max_connections: 200,
      },
    },
  };
}

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
  const hba = [
    "local all all scram-sha-256",
    ...topology.dbHosts.map(
      (h) => `host replication ${PATRONI_USERS.replication} ${cidr(h.address)} scram-sha-256`,
    ),
    "host all all 0.0.0.0/0 scram-sha-256",
    "host all all ::/0 scram-sha-256",
  ];
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
        superuser: { username: PATRONI_USERS.superuser },
        replication: { username: PATRONI_USERS.replication },
        rewind: { username: PATRONI_USERS.rewind },
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
