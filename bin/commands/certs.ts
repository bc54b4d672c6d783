/**
 * tradepipe certs: the CA and server certificates for a database that clients verify
 * (`sslmode=verify-full`) on bare metal. `ca` makes (or renews) the CA in a directory kept on
 * an administrator's machine; `server` issues one database host's certificate from it into a
 * directory to copy to that host; both leave good files alone, so running them again rotates
 * only what expires within 30 days or no longer names the hosts (see native-deploy/README.md).
 */
import { parseArgs } from "node:util";
import {
  ensureCertificateAuthority,
  ensureHostCertificate,
} from "../../services/core/tls/authority.ts";
import { CERTIFICATE_LIFETIME } from "../../services/core/tls/certificates.ts";

const USAGE = `usage: tradepipe certs ca --dir CA_DIR [--name NAME] [--force]
       tradepipe certs server --ca-dir CA_DIR --hosts NAME,ADDRESS,... --out DIR [--force]

  ca       make the CA (ca.crt, ca.key; 0600) in CA_DIR, or renew it when it expires within
           ${CERTIFICATE_LIFETIME.renewBeforeDays} days (lifetime ${CERTIFICATE_LIFETIME.caDays} days). Keep ca.key off the database hosts.
  server   issue server.crt and server.key (${CERTIFICATE_LIFETIME.serverDays} days) for one database host from the
           CA, and copy ca.crt beside them; --hosts lists every name and address clients dial
           (each becomes a subjectAltName). Reissued only when missing, expiring, signed by
           another CA or not naming every host, unless --force.
`;

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`tradepipe certs: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const now = new Date();
  if (positionals[0] === "ca" && values.dir) {
    const said = await ensureCertificateAuthority(values.dir, {
      name: values.name,
      now,
      force: values.force,
    });
    process.stdout.write(`${said}\n`);
    return 0;
  }
  if (positionals[0] === "server" && values["ca-dir"] && values.hosts && values.out) {
    const hosts = values.hosts.split(",").map((h) => h.trim());
    const said = await ensureHostCertificate(values["ca-dir"], values.out, {
      hosts,
      now,
      force: values.force,
    });
    process.stdout.write(`${said}\n`);
    return 0;
  }
  process.stderr.write(`tradepipe certs: say what and where\n\n${USAGE}`);
  return 2;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      dir: { type: "string" },
      name: { type: "string" },
      "ca-dir": { type: "string" },
      hosts: { type: "string" },
      out: { type: "string" },
      force: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
