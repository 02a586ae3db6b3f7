#!/bin/bash
# /agnhost of the conformance image (build-cnp-conformance.sh); the agnhost binary is /agnhost-bin.
# The network-policy-api suite's base pods run `agnhost porter` with SERVE_SCTP_PORT_* servers
# next to their TCP and UDP ones. On a kernel without SCTP such a server fails to listen and
# takes the whole container down, so the pod never becomes Ready and no test runs. Only there,
# and only for porter, this drops the SCTP servers (saying so on stderr) and keeps every other
# one; the suite's SCTP tests are skipped on such a kernel (cnp-conformance.sh), nothing else
# changes. With SCTP in the kernel (/proc/net/sctp exists) it execs agnhost untouched.
if [ "${1:-}" = porter ] && [ ! -d /proc/net/sctp ]; then
  for name in $(compgen -e); do
    case "$name" in
      SERVE_SCTP_PORT_*)
        echo "agnhost-sctp-shim: no SCTP in this kernel: not serving $name" >&2
        unset "$name"
        ;;
    esac
  done
fi
exec "${0%/*}/agnhost-bin" "$@"
