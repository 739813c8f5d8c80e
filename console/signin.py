"""Where the console may send a browser after signing in: a path on this site only."""

from __future__ import annotations

from urllib.parse import urlsplit

HOME = "/"


def local_path(target: str) -> str:
    """`target` if it is a path on this site, else "/". Browsers take `//host` and `/\\host`
    for another host, read `\\` as `/` and drop tabs and newlines before they look, so a
    target with a backslash or a control character is refused whole, as is any with a
    scheme or a host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in target):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or len(target) > 2000:
        return HOME
    return target
