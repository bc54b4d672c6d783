/**
 * sd-notify tells systemd a unit is ready (Type=notify) and alive (WatchdogSec=). Node has no
 * Unix datagram sockets, so the messages go through systemd's own `systemd-notify` with the
 * main PID named explicitly (units set NotifyAccess=all for that). Outside systemd
 * (NOTIFY_SOCKET unset) every call is a no-op.
 */
import { execFile } from "node:child_process";

export interface SystemdNotifier {
  ready(status?: string): void;
  /** STATUS= text shown by `systemctl status` (sent only when it changed). */
  status(text: string): void;
  stopping(): void;
  /** Starts watchdog pings at half of WATCHDOG_USEC; returns a stop function. */
  startWatchdog(): () => void;
}

export function systemdNotifier(env: NodeJS.ProcessEnv = process.env): SystemdNotifier {
  const active = Boolean(env.NOTIFY_SOCKET);
  const send = (...assignments: string[]) => {
    if (!active) return;
    execFile("systemd-notify", [`--pid=${process.pid}`, ...assignments], () => {});
  };
  let lastStatus = "";
  return {
    ready: (status) => {
      if (status) lastStatus = status;
      send("--ready", ...(status ? [`--status=${status}`] : []));
    },
    status: (text) => {
      if (text === lastStatus) return;
      lastStatus = text;
      send(`--status=${text}`);
    },
    stopping: () => send("STOPPING=1"),
    startWatchdog() {
      const usec = Number(env.WATCHDOG_USEC ?? 0);
      if (!active || !usec) return () => {};
      const timer = setInterval(() => send("WATCHDOG=1"), Math.max(500, usec / 2000));
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
