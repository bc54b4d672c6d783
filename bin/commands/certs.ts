/**
 * tradepipe certs: the CA and server certificates for a database that clients verify
 * (`sslmode=verify-full`) on bare metal. `ca` makes (or renews) the CA in a directory kept on
 * an administrator's machine; `server` issues one database host's certificate from it into a
 * directory to copy to that host; both leave good files alone, so running them again rotates
 * only what expires within 30 days or no longer names the hosts (see native-deploy/README.md).
 */
import {
  ensureCertificateAuthority,
  ensureHostCertificate,
} from "../../services/core/tls/authority.ts";
import { CERTIFICATE_LIFETIME } from "../../services/core/tls/certificates.ts";
import { parseCommand } from "./args.ts";

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
  const args = parseCommand(
    "certs",
    USAGE,
    argv,
    {
      dir: { type: "string" },
      name: { type: "string" },
      "ca-dir": { type: "string" },
      hosts: { type: "string" },
      out: { type: "string" },
      force: { type: "boolean" },
    },
    (_values, action) => (action === "ca" ? ["dir"] : ["ca-dir", "hosts", "out"]),
    ["ca", "server"],
  );
  if (typeof args === "number") return args;
  const now = new Date();
  const force = args.flag("force");
  if (args.action === "ca") {
    const said = await ensureCertificateAuthority(args.need("dir"), {
      name: args.str("name"),
      now,
      force,
    });
    process.stdout.write(`${said}\n`);
    return 0;
  }
  const hosts = args
    .need("hosts")
    .split(",")
    .map((h) => h.trim());
  const said = await ensureHostCertificate(args.need("ca-dir"), args.need("out"), {
    hosts,
    now,
    force,
  });
  process.stdout.write(`${said}\n`);
  return 0;
}
