/**
 * disk-full-switch: makes every write of one table fail as Postgres fails it on a full disk
 * (SQLSTATE 53100, "could not extend file …: No space left on device"), on and off at will, for
 * the tests of a store's retries. The error is the server's own (a trigger raises it), so the
 * client sees exactly what a full disk gives it; test/e2e/database-disk-full.test.ts fills a
 * real disk.
 */
import type pg from "pg";

export interface DiskFullSwitch {
  on(): Promise<void>;
  off(): Promise<void>;
}

/** installDiskFullSwitch puts the switch on `table` (off to begin with). */
export async function installDiskFullSwitch(pool: pg.Pool, table: string): Promise<DiskFullSwitch> {
  await pool.query(`
    CREATE TABLE IF NOT EXISTS tp_test_disk_full (since timestamptz);
    CREATE OR REPLACE FUNCTION tp_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM tp_test_disk_full) THEN
        RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device'
          USING ERRCODE = '53100';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER tp_test_disk_full BEFORE INSERT OR UPDATE ON ${table}
      FOR EACH ROW EXECUTE FUNCTION tp_test_disk_full();`);
  return {
    on: async () => {
      await pool.query("INSERT INTO tp_test_disk_full VALUES (now())");
    },
    off: async () => {
      await pool.query("DELETE FROM tp_test_disk_full");
    },
  };
}
