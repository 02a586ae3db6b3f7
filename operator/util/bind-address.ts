// Listen addresses as controller-runtime's flags write them: ":8080" (every interface),
// "127.0.0.1:8080", "[::1]:8080", port 0 for any free port, and "0" to turn the endpoint off.
export interface BindAddress {
  /** Undefined: every interface. */
  host?: string;
  port: number;
}

export function parseBindAddress(text: string): BindAddress | 'disabled' {
  if (text === '0') return 'disabled';
  const colon = text.lastIndexOf(':');
  if (colon < 0)
    throw new Error(`invalid bind address '${text}' (use e.g. :8080, 127.0.0.1:8080, or 0 to disable)`);
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':'))
    throw new Error(`invalid bind address '${text}' (write IPv6 hosts in brackets)`);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new Error(`invalid port in bind address '${text}'`);
  }
  return { ...(host ? { host } : {}), port: Number(portText) };
}

/** host:port for logs, with IPv6 hosts in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
