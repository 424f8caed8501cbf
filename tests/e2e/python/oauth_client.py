#!/usr/bin/env python3
"""OAuth-capable MCP client (official Python SDK, mcp==2.3.0). Usage: oauth_client.py <mcp-server-url>"""

import json
import re
import sys
from urllib.parse import parse_qs, urlparse

import anyio
import httpx2  # installed by mcp 2.x as its HTTP client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


async def redirect_handler(url: str) -> None:
    print(f"AUTHORIZE {url}", flush=True)


async def callback_handler() -> AuthorizationCodeResult:
    line = (await anyio.to_thread.run_sync(sys.stdin.readline)).strip()
    if not line:
        raise RuntimeError("no callback URL on stdin")
    q = parse_qs(urlparse(line).query)
    if "error" in q:
        raise RuntimeError(f"authorization error: {q['error'][0]} {q.get('error_description', [''])[0]}".strip())
    if "code" not in q:
        raise RuntimeError(f"callback URL has no code: {line}")
    # 2.x expects an AuthorizationCodeResult (1.x: a (code, state) tuple); iss is checked per RFC 9207.
    return AuthorizationCodeResult(code=q["code"][0], state=q.get("state", [None])[0], iss=q.get("iss", [None])[0])


async def run(server_url: str) -> dict:
    auth = OAuthClientProvider(
        server_url=server_url,
        client_metadata=OAuthClientMetadata(
            client_name="python-sdk-e2e",
            redirect_uris=["http://127.0.0.1:33419/callback"],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=MemoryStorage(),
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with httpx2.AsyncClient(auth=auth, timeout=timeout) as http:
        async with streamable_http_client(server_url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = sorted(t.name for t in (await session.list_tools()).tools)
                res = await session.call_tool("add_numbers", {"a": 2, "b": 3})
                if res.is_error:
                    raise RuntimeError(f"add_numbers failed: {res.content}")
                sc = res.structured_content
                if isinstance(sc, dict) and "sum" in sc:
                    total = sc["sum"]
                else:  # fall back to the text content, e.g. '{"sum": 5}' or '2 + 3 = 5': take the last number
                    text = " ".join(c.text for c in res.content if getattr(c, "type", None) == "text")
                    numbers = re.findall(r"-?\d+(?:\.\d+)?", text)
                    if not numbers:
                        raise RuntimeError(f"no sum in tool result: {text!r}")
                    total = json.loads(numbers[-1])
                return {"tools": tools, "sum": total}


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")


def main() -> int:
    if len(sys.argv) != 2:
        print("ERROR usage: oauth_client.py <mcp-server-url>", flush=True)
        return 1
    try:
        result = anyio.run(run, sys.argv[1])
    except BaseException as exc:  # noqa: BLE001 - report everything (incl. exception groups) as one line
        if isinstance(exc, KeyboardInterrupt):
            raise
        print(f"ERROR {_describe(exc)}", flush=True)
        return 1
    print(f"RESULT {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
