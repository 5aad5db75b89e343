"""Search the phone page for a song as a listener would: sign in with the PIN, type into the seed box.

Run inside the appliance by deploy/check-arm64.sh (standard library only, so it needs nothing the
appliance lacks):  python3 page_search.py PORT PIN QUERY

Prints one line: "found: QUERY (...)" when the page answers the search with that song (chosen as the
seed, or listed among the choices), else "not found: <the page's message>"; exit status 0 or 1.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import sys
import urllib.parse
import urllib.request

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FLASH = re.compile(r'class="[^"]*(?:error|message)[^"]*"[^>]*>([^<]+)<')


def _post(opener: urllib.request.OpenerDirector, url: str, fields: dict[str, str]) -> str:
    body = urllib.parse.urlencode(fields).encode()
    with opener.open(url, data=body, timeout=60) as response:
        return str(response.read().decode("utf-8", "replace"))


def _get(opener: urllib.request.OpenerDirector, url: str) -> str:
    with opener.open(url, timeout=60) as response:
        return str(response.read().decode("utf-8", "replace"))


def main(port: str, pin: str, query: str) -> int:
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    login = _get(opener, f"{base}/login")
    page = _post(opener, f"{base}/login", {"csrf": CSRF.search(login).group(1), "pin": pin})  # type: ignore[union-attr]
    token = CSRF.search(page)
    if token is None:
        print("not found: the PIN was not accepted")
        return 1
    answer = _post(opener, f"{base}/seed", {"csrf": token.group(1), "seed": query})
    seed = json.loads(_get(opener, f"{base}/api/state"))["settings"]["seed"]
    if seed and query.casefold() in f"{seed.get('title', '')} {seed.get('artist', '')}".casefold():
        print(f"found: {query} (now the seed: {seed.get('artist')} – {seed.get('title')})")
        return 0
    if query.casefold() in answer.casefold() and "No song matches" not in answer:
        print(f"found: {query} (among the choices)")
        return 0
    message = FLASH.search(answer)
    print(f"not found: {message.group(1).strip() if message else 'no match on the page'}")
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
