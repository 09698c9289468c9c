/**
 * Who this machine is, as reported with every file when `--hostname` and `--ip` are not
 * given: the system host name and the first non-loopback IPv4 address.
 */
export function systemHostname(): string {
  return Deno.hostname();
}

export function primaryIpAddress(): string {
  try {
    const candidates = Deno.networkInterfaces().filter((i) =>
      i.family === "IPv4" && !i.address.startsWith("127.")
    );
    return candidates[0]?.address ?? "127.0.0.1";
  } catch {
    return "127.0.0.1";
  }
}
