"""Hosts for a test across machines: network namespaces on one private LAN of their own.

Each host is a network namespace with one link, ``eth0``, onto a bridge that lives in a
namespace of its own (the LAN's switch), so that no firewall rule of this machine stands
between the hosts. The test's own process joins the LAN through one more link, so that it
can reach every host. The LAN is a /24 of 10.0.0.0/8 that this machine does not route
already; nothing is sent anywhere else. Cutting a host off is ``ip link set eth0 down``
inside it: its processes live on, and what they send goes nowhere until it is healed.

It needs root and ``ip`` (iproute2); ``unavailable()`` says plainly when the machine lacks
them. Everything made is removed by ``close()``, processes in the namespaces included.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import secrets
import shutil
import subprocess


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None if they can."""
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "network namespaces need root, and the suite runs as an ordinary user here"
    probe = f"crm-probe-{secrets.token_hex(3)}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"this machine does not let root make network namespaces: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


def _routed_networks() -> list[ipaddress.IPv4Network]:
    routes = json.loads(_ip("-j", "-4", "route", "show", "table", "all").stdout or "[]")
    found = []
    for route in routes:
        destination = route.get("dst", "default")
        if destination != "default":
            with contextlib.suppress(ValueError):
                found.append(ipaddress.ip_network(destination, strict=False))
    return found


def _free_subnet(rng: random.Random) -> ipaddress.IPv4Network:
    taken = _routed_networks()
    for _ in range(200):
        candidate = ipaddress.ip_network(f"10.{rng.randrange(16, 250)}.{rng.randrange(256)}.0/24")
        if not any(candidate.overlaps(network) for network in taken):
            return candidate
    raise RuntimeError("no free /24 in 10.0.0.0/8 for the test LAN")


class Lan:
    """A switch, the test's link onto it, and the hosts added with ``add``."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(3)
        self.subnet = _free_subnet(random.Random(self.tag))
        self.prefix = self.subnet.prefixlen
        hosts = list(self.subnet.hosts())
        self.gateway = str(hosts[0])  # the test's own address on the LAN
        self._next_address = iter(hosts[9:])
        self.switch = f"crm-{self.tag}-lan"
        self.uplink = f"crm{self.tag}"  # in the test's namespace (at most 15 characters)
        self.hosts: dict[str, str] = {}  # name: address

    def namespace(self, host: str) -> str:
        return f"crm-{self.tag}-{host}"

    def open(self) -> Lan:
        try:
            _ip("netns", "add", self.switch)
            self._in(self.switch, "link", "add", "lan", "type", "bridge")
            self._in(self.switch, "link", "set", "lan", "up")
            _ip(
                *("link", "add", self.uplink, "type", "veth"),
                *("peer", "name", "uplink", "netns", self.switch),
            )
            self._in(self.switch, "link", "set", "uplink", "master", "lan", "up")
            _ip("addr", "add", f"{self.gateway}/{self.prefix}", "dev", self.uplink)
            _ip("link", "set", self.uplink, "up")
        except BaseException:
            self.close()
            raise
        return self

    def add(self, host: str) -> str:
        """A host on the LAN; its address."""
        namespace = self.namespace(host)
        address = str(next(self._next_address))
        port = f"h{len(self.hosts)}"
        _ip("netns", "add", namespace)
        self.hosts[host] = address
        _ip(
            *("link", "add", "eth0", "netns", namespace, "type", "veth"),
            *("peer", "name", port, "netns", self.switch),
        )
        self._in(self.switch, "link", "set", port, "master", "lan", "up")
        self._in(namespace, "addr", "add", f"{address}/{self.prefix}", "dev", "eth0")
        self._in(namespace, "link", "set", "eth0", "up")
        self._in(namespace, "link", "set", "lo", "up")
        return address

    def command(self, host: str, argv: list[str]) -> list[str]:
        """``argv`` run on ``host`` (``ip netns exec`` becomes the program: same process id)."""
        return ["ip", "netns", "exec", self.namespace(host), *argv]

    def cut(self, host: str) -> None:
        """Take the host's only link down: it can reach nothing, nothing can reach it."""
        self._in(self.namespace(host), "link", "set", "eth0", "down")

    def heal(self, host: str) -> None:
        self._in(self.namespace(host), "link", "set", "eth0", "up")

    def close(self) -> None:
        """Kill what still runs in the hosts, then remove them, the switch and the uplink."""
        for host in self.hosts:
            namespace = self.namespace(host)
            pids = _ip("netns", "pids", namespace, check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
            _ip("netns", "del", namespace, check=False)
        _ip("link", "del", self.uplink, check=False)
        _ip("netns", "del", self.switch, check=False)

    @staticmethod
    def _in(namespace: str, *args: str) -> None:
        _ip("-n", namespace, *args)
